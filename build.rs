//! Generates include/mqttc.h from the Rust sources with cbindgen. The header is
//! committed; CI checks that a build leaves it unchanged.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    // cbindgen reads the whole crate (a `pub const` anywhere can reach the header).
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let out = crate_dir.join("include").join("mqttc.h");
    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(&out);
        }
        Err(e) => {
            // A parse failure must not hide behind a stale header.
            panic!("cbindgen failed: {e}");
        }
    }
}
