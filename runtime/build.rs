//! Builds the runtime to wasm with `substrate-wasm-builder` (only when building for `std`).

#[cfg(feature = "std")]
fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

/// The wasm builder is not needed when this crate itself is compiled to wasm.
#[cfg(not(feature = "std"))]
fn main() {}
