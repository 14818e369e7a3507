//! `sqlx::migrate!` embeds the migrations when the crate compiles, but Cargo does not know it reads them: without
//! this, a migration added since the last build is missing from the next incremental one (sqlx's documented fix).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
