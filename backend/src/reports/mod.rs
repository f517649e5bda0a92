//! Reports (党内统计报表): the annual and half-year party statistical report as one XLSX
//! workbook or as JSON tables, built from the `stats` queries.

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(_cfg: &mut ServiceConfig) {}
