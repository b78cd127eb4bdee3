//! How a response arrived (SPEC "Second release → Channels"). The server sets it from the
//! route and the link a response came in by; nothing a client sends chooses it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The form on a registered waiting-room kiosk (the response also names the kiosk).
    Kiosk,
    /// A personal invitation link (`?t=`).
    Invitation,
    /// The public link as the poster's QR code carries it (`?via=qr`).
    Qr,
    /// The public link, typed or followed.
    Link,
    /// `POST /api/v1/sites/{site}/surveys/{survey}/responses`.
    Api,
    /// A FHIR `QuestionnaireResponse` posted to `/fhir/r4`.
    Fhir,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Kiosk,
        Channel::Invitation,
        Channel::Qr,
        Channel::Link,
        Channel::Api,
        Channel::Fhir,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Kiosk => "kiosk",
            Channel::Invitation => "invitation",
            Channel::Qr => "qr",
            Channel::Link => "link",
            Channel::Api => "api",
            Channel::Fhir => "fhir",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Channel, String> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                format!("must be one of {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_text_and_json() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), c);
        }
        assert!("poster"
            .parse::<Channel>()
            .unwrap_err()
            .contains("kiosk, invitation"));
    }
}
