//! Kafka error codes in fault rules, written by name (`NOT_LEADER_OR_FOLLOWER`) or number (`6`).

use std::fmt;

use ktrial_protocol::ResponseError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kafka error code a fault answers with. Names are Kafka's (`Errors.java`); unknown names and
/// codes Kafka does not define are refused.
///
/// ```
/// use ktrial_mockbroker::faults::ErrorCode;
/// let code: ErrorCode = "NOT_LEADER_OR_FOLLOWER".parse()?;
/// assert_eq!(code.code(), 6);
/// assert_eq!("6".parse::<ErrorCode>()?, code);
/// assert!("NOT_AN_ERROR".parse::<ErrorCode>().is_err());
/// # Ok::<(), ktrial_mockbroker::faults::UnknownErrorCode>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ErrorCode(i16);

/// A name or number that is no Kafka error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown Kafka error code {0:?} (use a name such as NOT_LEADER_OR_FOLLOWER, or its number)"
)]
pub struct UnknownErrorCode(pub String);

impl ErrorCode {
    /// The numeric code.
    pub fn code(self) -> i16 {
        self.0
    }

    /// Kafka's name for the code, e.g. `NOT_LEADER_OR_FOLLOWER`.
    pub fn name(self) -> String {
        Self::error(self.0).map_or_else(|| "NONE".to_string(), |e| screaming_snake(&e.to_string()))
    }

    /// Whether clients treat the error as retriable.
    pub fn is_retriable(self) -> bool {
        Self::error(self.0).is_some_and(|e| e.is_retriable())
    }

    /// The code for a number Kafka defines (0, NONE, included).
    pub fn from_code(code: i16) -> Result<Self, UnknownErrorCode> {
        match ResponseError::try_from_code(code) {
            Some(ResponseError::Unknown(_)) => Err(UnknownErrorCode(code.to_string())),
            _ => Ok(ErrorCode(code)),
        }
    }

    fn error(code: i16) -> Option<ResponseError> {
        ResponseError::try_from_code(code)
    }
}

/// Kafka's code for the error; `ResponseError::Unknown` of a code Kafka does not define becomes
/// `UNKNOWN_SERVER_ERROR` (-1), as a broker answers what it cannot name.
impl From<ResponseError> for ErrorCode {
    fn from(error: ResponseError) -> Self {
        Self::from_code(error.code()).unwrap_or(ErrorCode(-1))
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(code) = s.trim().parse::<i16>() {
            return Self::from_code(code);
        }
        let wanted = s.trim().to_ascii_uppercase();
        if wanted == "NONE" {
            return Ok(ErrorCode(0));
        }
        (-1..=i16::from(u8::MAX))
            .filter_map(|code| Self::error(code).map(|e| (code, e)))
            .find(|(_, e)| screaming_snake(&e.to_string()) == wanted)
            .map(|(code, _)| ErrorCode(code))
            .ok_or_else(|| UnknownErrorCode(s.to_string()))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NameOrNumber {
            Number(i64),
            Name(String),
        }
        let text = match NameOrNumber::deserialize(deserializer)? {
            NameOrNumber::Number(n) => n.to_string(),
            NameOrNumber::Name(s) => s,
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `NotLeaderOrFollower` → `NOT_LEADER_OR_FOLLOWER`.
fn screaming_snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_names_map_to_their_codes() {
        for (name, code) in [
            ("UNKNOWN_SERVER_ERROR", -1),
            ("CORRUPT_MESSAGE", 2),
            ("NOT_LEADER_OR_FOLLOWER", 6),
            ("REQUEST_TIMED_OUT", 7),
            ("NOT_ENOUGH_REPLICAS", 19),
            ("NOT_ENOUGH_REPLICAS_AFTER_APPEND", 20),
            ("OUT_OF_ORDER_SEQUENCE_NUMBER", 45),
            ("INVALID_PRODUCER_EPOCH", 47),
            ("UNKNOWN_PRODUCER_ID", 59),
            ("COORDINATOR_NOT_AVAILABLE", 15),
            ("NONE", 0),
        ] {
            let parsed: ErrorCode = name.parse().unwrap();
            assert_eq!(parsed.code(), code, "{name}");
            assert_eq!(parsed.name(), name);
        }
    }

    #[test]
    fn unknown_names_and_numbers_are_refused() {
        assert!("NOT_LEADER".parse::<ErrorCode>().is_err());
        assert!("9999".parse::<ErrorCode>().is_err());
        assert!(serde_json::from_str::<ErrorCode>("\"BOGUS\"").is_err());
        assert_eq!(serde_json::from_str::<ErrorCode>("6").unwrap().code(), 6);
    }

    #[test]
    fn response_errors_convert_to_their_codes() {
        assert_eq!(
            ErrorCode::from(ResponseError::NotLeaderOrFollower).code(),
            6
        );
        assert_eq!(ErrorCode::from(ResponseError::Unknown(6)).code(), 6);
        assert_eq!(
            ErrorCode::from(ResponseError::Unknown(9999)).name(),
            "UNKNOWN_SERVER_ERROR"
        );
    }

    #[test]
    fn retriability_follows_kafka() {
        assert!(ErrorCode(6).is_retriable());
        assert!(!ErrorCode(45).is_retriable());
    }
}
