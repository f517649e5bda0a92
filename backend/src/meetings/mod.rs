//! Organizational life (组织生活): 三会一课 and the other meetings of docs/domain.md, "Organizational
//! life" (支部工作条例 (2018) art. 14-16).
//!
//! - `kinds`: the meeting kinds (configuration), per-org frequency rules, whether a branch counts
//!   as having a committee, and the officers (secretary, committee) who attend 支委会;
//! - `records`: plan, record, correct, cancel and archive a meeting; addenda after archiving;
//! - `attendance`: who is due, who came, who was absent and why;
//! - `checkin`: the rotating QR code a member scans to check in;
//! - `votes`: votes of a branch general meeting, with quorum (docs/domain.md, Member development);
//! - `attachments`: photos and sign-in sheets, through [`crate::storage`];
//! - `mine`: a member's own meetings and study hours;
//! - `rules`: which kinds, how often, each org owes (settings with docs/domain.md's defaults);
//! - `compliance` and `analysis`: 分析提醒, which meetings each branch owes and held; attendance.
//!
//! `access` holds the checks every handler shares: who may read or write a meeting.

pub mod access;
pub mod analysis;
pub mod attachments;
pub mod attendance;
pub mod checkin;
pub mod compliance;
pub mod kinds;
pub mod mine;
pub mod records;
pub mod rules;
pub mod types;
pub mod votes;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    // Fixed paths (/meetings/compliance, /meetings/mine, ...) before /meetings/{id}, which would
    // take them for an id.
    kinds::routes(cfg);
    compliance::routes(cfg);
    analysis::routes(cfg);
    mine::routes(cfg);
    records::routes(cfg);
    attendance::routes(cfg);
    checkin::routes(cfg);
    votes::routes(cfg);
    attachments::routes(cfg);
}
