//! Sets `cfg(component)` when this build is the WebAssembly component
//! itself: `wasm32` with the default `component` feature. The component is
//! then `no_std` with a runtime of its own, exports the contract, and
//! carries the tools' JSON Schemas as text only.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(component)");
    let wasm32 = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if wasm32 && std::env::var_os("CARGO_FEATURE_COMPONENT").is_some() {
        println!("cargo::rustc-cfg=component");
    }
}
