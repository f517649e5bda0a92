//! Synthetic data: filled in next.
use crate::crypto::DataKey;

pub struct Size {
    pub members: u64,
    pub orgs: u64,
    pub seed: u64,
}

pub async fn run(_url: &str, _key: &DataKey, _size: Size) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err("not yet written".into())
}
