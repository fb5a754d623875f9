//! A fault plan file (`ktrial broker --faults FILE`): `[[rules]]` and `[[events]]` in TOML.
//! Refused whole: a syntax or schema error names the line and field as the TOML parser reports
//! them; a rule or event that does not fit the cluster names its line and field too.

use serde::Deserialize;
use toml::Spanned;

use super::{FaultRule, InvalidRule, ScheduledEvent};

/// The rules and events of a file, with the line each starts on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultFile {
    /// Fault rules, in order.
    #[serde(default)]
    rules: Vec<Spanned<FaultRule>>,
    /// Cluster events.
    #[serde(default)]
    events: Vec<Spanned<ScheduledEvent>>,
    #[serde(skip)]
    text: String,
}

/// Why a fault file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultFileError(pub String);

impl FaultFile {
    /// Parses a file's text.
    pub fn parse(text: &str) -> Result<Self, FaultFileError> {
        let mut file: FaultFile =
            toml::from_str(text).map_err(|e| FaultFileError(e.to_string()))?;
        file.text = text.to_string();
        Ok(file)
    }

    /// The rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = &FaultRule> {
        self.rules.iter().map(|r| r.get_ref())
    }

    /// The events, in order.
    pub fn events(&self) -> impl Iterator<Item = &ScheduledEvent> {
        self.events.iter().map(|e| e.get_ref())
    }

    /// Names the line of a rule or event a validation error (`rules[1].when.topic`,
    /// `events[0].event.broker`) points at.
    pub fn locate(&self, error: &InvalidRule) -> FaultFileError {
        let index = |prefix: &str| {
            error
                .field
                .strip_prefix(prefix)?
                .split(']')
                .next()?
                .parse::<usize>()
                .ok()
        };
        let span = index("rules[")
            .and_then(|i| self.rules.get(i).map(Spanned::span))
            .or_else(|| index("events[").and_then(|i| self.events.get(i).map(Spanned::span)));
        match span {
            Some(span) => {
                let line = self.text[..span.start.min(self.text.len())]
                    .matches('\n')
                    .count()
                    + 1;
                FaultFileError(format!("line {line}: {error}"))
            }
            None => FaultFileError(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_events_parse_and_errors_name_line_and_field() {
        let text = "[[rules]]\nwhen = { api = \"Produce\" }\ndo = \"drop\"\n\n[[rules]]\nwhen = { topic = \"nope\" }\ndo = \"drop\"\n\n[[events]]\nat_ms = 100\nevent = { broker_down = { broker = 2 } }\n";
        let file = FaultFile::parse(text).unwrap();
        assert_eq!(file.rules().count(), 2);
        assert_eq!(file.events().count(), 1);
        let error = InvalidRule {
            field: "rules[1].when.topic".into(),
            reason: "no topic".into(),
        };
        assert_eq!(
            file.locate(&error).0,
            "line 5: rules[1].when.topic: no topic"
        );
        let refused = FaultFile::parse("[[rules]]\nwhen = { colour = 1 }\ndo = \"drop\"\n")
            .unwrap_err()
            .0;
        assert!(
            refused.contains("line 2") && refused.contains("colour"),
            "{refused}"
        );
    }
}
