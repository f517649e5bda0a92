//! 支部工作台账: the branch work ledger of one year (DOMAIN.md, Organizational life), as an XLSX
//! workbook or a printable PDF.

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(_cfg: &mut ServiceConfig) {}
