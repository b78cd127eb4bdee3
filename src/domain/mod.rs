//! Domain types: what Chorus stores and reasons about. Imports nothing else from the crate.

pub mod audit;
pub mod channel;
pub mod delivery;
pub mod follow_up;
pub mod invitation;
pub mod jobs;
pub mod kiosk;
pub mod origin;
pub mod response;
pub mod rule_error;
pub mod rule_version;
pub mod session;
pub mod task;
pub mod task_tally;
pub mod time;
pub mod user;

pub use audit::{AuditEntry, NewAuditEntry};
pub use channel::Channel;
pub use delivery::{AttemptRecord, Delivery, DeliveryStatus, Lease};
pub use follow_up::{
    missing_actions, new_delivery, new_task, place_of, records_for, records_of, FollowUpRecords,
    TaskAction,
};
pub use invitation::{Invitation, InvitationProblem};
pub use jobs::{
    CatchUpProgress, JobProgress, PlaceCount, RetagProgress, RetagStatus, ReviewRun, ReviewState,
};
pub use kiosk::Kiosk;
pub use origin::{Origin, OriginKind};
pub use response::{
    Action, AnswerValue, Answers, FollowUp, Priority, RuleError, StoredResponse, Tag,
};
pub use rule_error::{ErrorSource, RuleErrorEntry};
pub use rule_version::RuleVersion;
pub use session::Session;
pub use task::{StatusChange, Task, TaskStatus};
pub use task_tally::TaskTally;
pub use user::{LoginFailures, PasswordLink, Role, User, ALL_SITES};
