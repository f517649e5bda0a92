//! In-platform notifications and the outbox a sender for other channels drains.

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(_cfg: &mut ServiceConfig) {}
