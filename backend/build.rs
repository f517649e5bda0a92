//! `embed_migrations!` reads backend/migrations at compile time, but cargo does not know that a
//! new migration folder is an input: without this, a build after adding one keeps the old set,
//! and a test template migrated by that binary lacks the new tables.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
