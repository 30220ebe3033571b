//! The operator CLI (`cli/`) is generated from this runtime's metadata, kept in
//! `cli/metadata.scale`. This test keeps the two in step: it fails when the runtime's metadata
//! changed and the file was not regenerated, and regenerates it with
//! `AGENTCHAIN_WRITE_METADATA=1 cargo test --release -p agentchain-runtime --lib metadata`.

use crate::Runtime;

/// The metadata version the CLI is generated from (the newest the runtime serves).
const CLI_METADATA_VERSION: u32 = 16;

#[test]
fn the_cli_is_generated_from_this_runtimes_metadata() {
	// Some constants are read from storage (parameters set at genesis), as on a node.
	let metadata = sp_io::TestExternalities::default().execute_with(|| {
		Runtime::metadata_at_version(CLI_METADATA_VERSION).expect("the runtime serves metadata v16")
	});
	let current: &[u8] = &metadata;
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../cli/metadata.scale");
	if std::env::var_os("AGENTCHAIN_WRITE_METADATA").is_some() {
		std::fs::write(path, current).expect("cli/metadata.scale is writable");
		return;
	}
	let committed = std::fs::read(path).expect("cli/metadata.scale exists");
	assert!(
		committed == current,
		"cli/metadata.scale is not this runtime's metadata: regenerate it with \
		 `AGENTCHAIN_WRITE_METADATA=1 cargo test --release -p agentchain-runtime --lib metadata`"
	);
}
