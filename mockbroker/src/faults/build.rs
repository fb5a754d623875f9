//! Fault rules in one line of Rust: [`FaultRule::on`] (or [`FaultRule::on_any`]) starts a
//! [`Match`], its methods add conditions, an action method ends it in a [`FaultRule`], and
//! [`FaultRule::once`] or [`FaultRule::times`] limit it. Each method sets the field of the same
//! name in the TOML form, so a rule reads the same in both.

use ktrial_protocol::messages::ApiKey;

use super::ErrorCode;
use super::rule::{Action, ApiName, FaultRule, Limit, Match};

impl FaultRule {
    /// Starts a rule for requests of one API; add conditions, then end with an action.
    ///
    /// ```
    /// use ktrial_mockbroker::{ApiKey, FaultRule, ResponseError};
    ///
    /// // The third Produce to broker 2 is applied, but its answer never comes; once.
    /// let rule = FaultRule::on(ApiKey::Produce).broker(2).nth(3).lose_response().once();
    /// let same: FaultRule = toml::from_str(r#"
    ///     when = { api = "Produce", broker = 2, nth = 3 }
    ///     do = "lose_response"
    ///     limit = "once"
    /// "#)?;
    /// assert_eq!(rule, same);
    ///
    /// // Every other Fetch of orders/1 fails with NOT_LEADER_OR_FOLLOWER, three times.
    /// let rule = FaultRule::on(ApiKey::Fetch)
    ///     .topic("orders")
    ///     .partition(1)
    ///     .every(2)
    ///     .error(ResponseError::NotLeaderOrFollower)
    ///     .times(3);
    /// assert_eq!(rule.limit, ktrial_mockbroker::Limit::Times(3));
    /// # Ok::<(), toml::de::Error>(())
    /// ```
    pub fn on(api: ApiKey) -> Match {
        Match {
            api: Some(ApiName(api)),
            ..Match::default()
        }
    }

    /// Starts a rule for requests of any API (`when` without `api`).
    pub fn on_any() -> Match {
        Match::default()
    }

    /// Fires once, then is spent (`limit = "once"`).
    pub fn once(self) -> Self {
        Self {
            limit: Limit::Once,
            ..self
        }
    }

    /// Fires at most `n` times (`limit = n`); `n` must be at least 1 ([`FaultRule::validate`]
    /// refuses 0, as the TOML form does).
    pub fn times(self, n: u32) -> Self {
        Self {
            limit: Limit::Times(n),
            ..self
        }
    }
}

impl Match {
    /// Only requests received by this broker (node id).
    pub fn broker(self, broker: i32) -> Self {
        Self {
            broker: Some(broker),
            ..self
        }
    }

    /// Only requests that name this topic.
    pub fn topic(self, topic: impl Into<String>) -> Self {
        Self {
            topic: Some(topic.into()),
            ..self
        }
    }

    /// Only requests that name this partition (of [`Match::topic`] when given).
    pub fn partition(self, partition: i32) -> Self {
        Self {
            partition: Some(partition),
            ..self
        }
    }

    /// Fires on the `n`-th matching request only, counting from 1.
    pub fn nth(self, n: u64) -> Self {
        Self {
            nth: Some(n),
            ..self
        }
    }

    /// Fires on every `k`-th matching request.
    pub fn every(self, k: u64) -> Self {
        Self {
            every: Some(k),
            ..self
        }
    }

    /// Matches only from `ms` milliseconds of cluster time on.
    pub fn after_ms(self, ms: u64) -> Self {
        Self {
            after_ms: Some(ms),
            ..self
        }
    }

    /// Matches only before `ms` milliseconds of cluster time.
    pub fn until_ms(self, ms: u64) -> Self {
        Self {
            until_ms: Some(ms),
            ..self
        }
    }

    /// Fires with probability `p` (0 to 1), drawn from the cluster's seeded RNG.
    pub fn probability(self, p: f64) -> Self {
        Self {
            probability: Some(p),
            ..self
        }
    }

    /// Ends the rule with `action`, without limit until [`FaultRule::once`] or
    /// [`FaultRule::times`].
    pub fn then(self, action: Action) -> FaultRule {
        FaultRule {
            when: self,
            action,
            limit: Limit::Always,
        }
    }

    /// Ends the rule with [`Action::error`]: the request fails with `code`.
    pub fn error(self, code: impl Into<ErrorCode>) -> FaultRule {
        self.then(Action::error(code))
    }

    /// Ends the rule with [`Action::error_on`]: only `partitions` fail with `code`.
    pub fn error_on(
        self,
        code: impl Into<ErrorCode>,
        partitions: impl IntoIterator<Item = i32>,
    ) -> FaultRule {
        self.then(Action::error_on(code, partitions))
    }

    /// Ends the rule with [`Action::Drop`]: never applied, never answered.
    pub fn drop_request(self) -> FaultRule {
        self.then(Action::Drop)
    }

    /// Ends the rule with [`Action::LoseResponse`]: applied, never answered.
    pub fn lose_response(self) -> FaultRule {
        self.then(Action::LoseResponse)
    }

    /// Ends the rule with [`Action::LoseResponseAndClose`]: applied, then the connection closes.
    pub fn lose_response_and_close(self) -> FaultRule {
        self.then(Action::LoseResponseAndClose)
    }

    /// Ends the rule with [`Action::Delay`]: answered `ms` milliseconds late.
    pub fn delay_ms(self, ms: u64) -> FaultRule {
        self.then(Action::Delay { ms })
    }

    /// Ends the rule with [`Action::CloseBefore`]: the connection closes, nothing applied.
    pub fn close_before(self) -> FaultRule {
        self.then(Action::CloseBefore)
    }

    /// Ends the rule with [`Action::CloseAfter`]: applied, then the connection closes unanswered.
    pub fn close_after(self) -> FaultRule {
        self.then(Action::CloseAfter)
    }

    /// Ends the rule with [`Action::Throttle`]: answered with `throttle_time_ms = ms`, and the
    /// connection held that long.
    pub fn throttle_ms(self, ms: u64) -> FaultRule {
        self.then(Action::Throttle { ms })
    }

    /// Ends the rule with [`Action::Corrupt`]: applied, answered with bytes the client cannot
    /// decode.
    pub fn corrupt(self) -> FaultRule {
        self.then(Action::Corrupt)
    }
}

impl Action {
    /// The whole request fails with `code` (a [`ResponseError`](ktrial_protocol::ResponseError)
    /// or an [`ErrorCode`]).
    pub fn error(code: impl Into<ErrorCode>) -> Self {
        Action::Error {
            code: code.into(),
            partitions: None,
        }
    }

    /// Only `partitions` of a Produce or Fetch fail with `code`; the others are applied.
    pub fn error_on(code: impl Into<ErrorCode>, partitions: impl IntoIterator<Item = i32>) -> Self {
        Action::Error {
            code: code.into(),
            partitions: Some(partitions.into_iter().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use ktrial_protocol::ResponseError;

    use super::super::Topology;
    use super::*;

    fn parsed(toml_text: &str) -> FaultRule {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn every_condition_is_the_toml_field_of_its_name() {
        let built = FaultRule::on(ApiKey::Produce)
            .broker(2)
            .topic("orders")
            .partition(1)
            .nth(3)
            .every(2)
            .after_ms(100)
            .until_ms(200)
            .probability(0.5)
            .drop_request();
        let written = parsed(
            "when = { api = \"Produce\", broker = 2, topic = \"orders\", partition = 1, nth = 3, \
             every = 2, after_ms = 100, until_ms = 200, probability = 0.5 }\ndo = \"drop\"",
        );
        assert_eq!(built, written);
    }

    #[test]
    fn on_any_leaves_the_api_open() {
        let rule = FaultRule::on_any().corrupt();
        assert_eq!(rule.when, Match::default());
        assert_eq!(rule, parsed("do = \"corrupt\""));
    }

    #[test]
    fn every_action_is_the_toml_action_of_its_name() {
        let on = || FaultRule::on(ApiKey::Fetch);
        for (built, action) in [
            (
                on().error(ResponseError::NotLeaderOrFollower),
                "{ error = { code = 6 } }",
            ),
            (
                on().error_on(ResponseError::NotEnoughReplicas, [0, 2]),
                "{ error = { code = \"NOT_ENOUGH_REPLICAS\", partitions = [0, 2] } }",
            ),
            (on().drop_request(), "\"drop\""),
            (on().lose_response(), "\"lose_response\""),
            (
                on().lose_response_and_close(),
                "\"lose_response_and_close\"",
            ),
            (on().delay_ms(300), "{ delay = { ms = 300 } }"),
            (on().close_before(), "\"close_before\""),
            (on().close_after(), "\"close_after\""),
            (on().throttle_ms(500), "{ throttle = { ms = 500 } }"),
            (on().corrupt(), "\"corrupt\""),
        ] {
            let written = parsed(&format!("when = {{ api = \"Fetch\" }}\ndo = {action}"));
            assert_eq!(built, written, "{action}");
        }
    }

    #[test]
    fn limits_are_the_toml_limits() {
        let rule = || FaultRule::on(ApiKey::Metadata).close_before();
        assert_eq!(rule().limit, Limit::Always);
        for (built, limit) in [(rule().once(), "\"once\""), (rule().times(4), "4")] {
            let written = parsed(&format!(
                "when = {{ api = \"Metadata\" }}\ndo = \"close_before\"\nlimit = {limit}"
            ));
            assert_eq!(built, written, "{limit}");
        }
    }

    #[test]
    fn zero_times_is_refused_as_in_toml() {
        struct Empty;
        impl Topology for Empty {
            fn has_broker(&self, _: i32) -> bool {
                false
            }
            fn partition_count(&self, _: &str) -> Option<i32> {
                None
            }
        }
        let rule = FaultRule::on_any().corrupt();
        assert_eq!(rule.clone().times(1).validate(&Empty), Ok(()));
        assert_eq!(rule.times(0).validate(&Empty).unwrap_err().field, "limit");
        assert!(toml::from_str::<FaultRule>("do = \"corrupt\"\nlimit = 0").is_err());
    }

    #[test]
    fn a_built_rule_survives_serde() {
        let rule = FaultRule::on(ApiKey::Produce)
            .topic("orders")
            .error_on(ResponseError::NotLeaderOrFollower, [1])
            .times(2);
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(serde_json::from_str::<FaultRule>(&json).unwrap(), rule);
    }
}
