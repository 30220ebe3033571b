//! The edge agent's batches (`docs/batches.md`): their work kept on disk, item by item, and run
//! against the endpoint across as many blocks as the commit phase gives, resumable after a
//! restart; and what the agent shows of that work when its outputs root is disputed.
//!
//! Each batch assignment has a directory under the state directory's `batches/`, named by the
//! task, the agent and the round, holding:
//! - `inputs.json`: the inputs document, fetched once and kept as fetched (checked against the
//!   chain's root, count and bounds each time it is read);
//! - `binding`: what the outputs depend on ([`binding`]): outputs stored under another binding
//!   (another endpoint, model mapping or output cap) are started over, never continued;
//! - `outputs.scale`: the outputs, in item order, each appended as it is answered with its hash
//!   ([`Record`]). A record cut short or garbled by a crash (a torn write, a tail of zeros some
//!   file systems leave after a power cut) fails its hash; it and what follows are dropped, and
//!   those items run again: an item's output is the same each time (greedy decoding), so what
//!   the agent commits to does not depend on where it stopped.
//!
//! The binding is enforced only while the batch runs, before its commitment: once committed, the
//! outputs kept are read as they are (publishing, showing an item, opening a node), checked
//! against the root committed to, whatever the agent's endpoint has become since. The directory
//! is removed once the task is no longer assigned to the agent: until then an item dispute or a
//! bisection over its root can ask for any item.

use super::{Endpoint, WorkKey};
use agentchain_execution::{
	batch::{checked_items, document, item_hashes, max_document_bytes},
	calls_again, hash_of,
	merkle::{MerkleTree, Opening},
	truncate_output, Fault, Sampling,
};
use codec::{Decode, Encode};
use std::{
	io::{Seek, Write},
	path::{Path, PathBuf},
};
use subxt::utils::H256;
use tokio::time::Instant;

/// One output as kept in `outputs.scale`: its bytes and their hash, which a record garbled by a
/// crash fails.
#[derive(Encode, Decode)]
struct Record {
	output: Vec<u8>,
	hash: [u8; 32],
}

/// A batch's work on disk.
pub struct BatchDir {
	path: PathBuf,
}

/// The directory of all batches under a state directory.
pub fn batches_dir(state_dir: &Path) -> PathBuf {
	state_dir.join("batches")
}

/// The name of a batch assignment's directory: `<task>-<agent, hex>-<round>`.
fn dir_name(key: &WorkKey) -> String {
	format!("{}-{}-{}", key.0, hex::encode(key.1), key.2)
}

/// The assignment a batch directory's name is of, if it is one.
pub fn key_of_dir(name: &str) -> Option<WorkKey> {
	let mut parts = name.split('-');
	let task = parts.next()?.parse().ok()?;
	let agent: [u8; 32] = hex::decode(parts.next()?).ok()?.try_into().ok()?;
	let round = parts.next()?.parse().ok()?;
	parts.next().is_none().then_some((task, agent, round))
}

/// The name of a batch's outputs document under the agent's outputs URL: unique to the
/// assignment (8 bytes of the hash of its key), so that rounds and agents never overwrite each
/// other, and short, so that the URI fits the chain's `MaxUriLen`.
pub fn document_name(key: &WorkKey) -> String {
	format!("o-{}.json", hex::encode(&hash_of(&key.encode()).0[..8]))
}

/// What a batch's outputs depend on besides its assignment: the model, the parameters, the
/// inputs, the endpoint and the output cap. Outputs are continued only under the same binding.
pub fn binding(
	key: &WorkKey,
	task: &[u8],
	endpoint: &str,
	model_name: &str,
	max_output: u32,
) -> H256 {
	hash_of(&(key, task, endpoint, model_name, max_output).encode())
}

impl BatchDir {
	/// The directory of assignment `key`'s batch, under `state_dir` (not created yet).
	pub fn of(state_dir: &Path, key: &WorkKey) -> Self {
		Self { path: batches_dir(state_dir).join(dir_name(key)) }
	}

	/// Removes the directory and everything in it.
	pub fn remove(state_dir: &Path, key: &WorkKey) {
		let _ = std::fs::remove_dir_all(Self::of(state_dir, key).path);
	}

	fn create(&self) -> std::io::Result<()> {
		use std::os::unix::fs::DirBuilderExt;
		std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.path)
	}

	/// The kept inputs, if the document kept is the chain's.
	pub fn inputs(&self, root: &H256, items: u32, max_item_len: usize) -> Option<Vec<String>> {
		let bytes = std::fs::read(self.path.join("inputs.json")).ok()?;
		checked_items(&bytes, root, items, max_item_len).ok()
	}

	fn keep_inputs(&self, bytes: &[u8]) -> std::io::Result<()> {
		self.create()?;
		write_synced(&self.path.join("inputs.json"), bytes)
	}

	/// The outputs kept, to go on with under `binding`, in order: outputs of another binding are
	/// cleared, as are a record a crash garbled and those after it. Only for a batch being run,
	/// before its commitment.
	pub fn continued_outputs(&self, binding: &H256) -> std::io::Result<Vec<Vec<u8>>> {
		let outputs_path = self.path.join("outputs.scale");
		let binding_path = self.path.join("binding");
		if std::fs::read(&binding_path).ok().as_deref() != Some(&binding.0[..]) {
			self.create()?;
			// Cleared before the new binding is written: outputs of the old one are never read
			// under the new.
			match std::fs::remove_file(&outputs_path) {
				Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
				_ => {},
			}
			write_synced(&binding_path, &binding.0)?;
			return Ok(Vec::new());
		}
		let (outputs, whole, len) = self.read_outputs()?;
		if whole != len {
			std::fs::OpenOptions::new()
				.write(true)
				.open(&outputs_path)?
				.set_len(whole as u64)?;
		}
		Ok(outputs)
	}

	/// The outputs kept, as they are: the records whose hash holds, up to the first that does
	/// not; changes nothing on disk.
	pub fn kept_outputs(&self) -> std::io::Result<Vec<Vec<u8>>> {
		self.read_outputs().map(|(outputs, ..)| outputs)
	}

	/// The whole records of `outputs.scale`, the bytes they take, and the file's length.
	fn read_outputs(&self) -> std::io::Result<(Vec<Vec<u8>>, usize, usize)> {
		let bytes = match std::fs::read(self.path.join("outputs.scale")) {
			Ok(bytes) => bytes,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0, 0)),
			Err(e) => return Err(e),
		};
		let mut outputs = Vec::new();
		let mut input = &bytes[..];
		let mut whole = 0;
		while !input.is_empty() {
			match Record::decode(&mut input) {
				Ok(record) if hash_of(&record.output).0 == record.hash => {
					outputs.push(record.output);
					whole = bytes.len() - input.len();
				},
				_ => break,
			}
		}
		Ok((outputs, whole, bytes.len()))
	}

	fn append(&self, output: &[u8]) -> std::io::Result<()> {
		let mut file = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(self.path.join("outputs.scale"))?;
		file.seek(std::io::SeekFrom::End(0))?;
		file.write_all(&Record { output: output.to_vec(), hash: hash_of(output).0 }.encode())
	}

	fn sync_outputs(&self) -> std::io::Result<()> {
		std::fs::File::open(self.path.join("outputs.scale"))?.sync_all()?;
		sync_dir(&self.path)
	}

	/// The outputs document of a finished batch of `items` items whose outputs root is `root`,
	/// from the outputs kept: `None` if they are not all there, or are not that root's.
	pub fn outputs_document(&self, items: u32, root: &H256) -> Option<Vec<u8>> {
		let outputs = self.finished_outputs(items, root)?;
		let texts: Vec<&str> = outputs
			.iter()
			.map(|output| std::str::from_utf8(output).ok())
			.collect::<Option<_>>()?;
		Some(document(&texts))
	}

	fn finished_outputs(&self, items: u32, root: &H256) -> Option<Vec<Vec<u8>>> {
		let outputs = self.kept_outputs().ok()?;
		(outputs.len() == items as usize
			&& MerkleTree::new(&item_hashes(&outputs))?.root() == *root)
			.then_some(outputs)
	}

	/// Item `item` as the agent ran it, shown on chain with its proofs against the inputs root and
	/// the outputs root `root` the agent revealed.
	pub fn item_showing(
		&self,
		inputs_root: &H256,
		items: u32,
		max_item_len: usize,
		root: &H256,
		item: u32,
	) -> Option<ItemShowing> {
		let inputs = self.inputs(inputs_root, items, max_item_len)?;
		let outputs = self.finished_outputs(items, root)?;
		let output_hashes = item_hashes(&outputs);
		Some(ItemShowing {
			input: inputs.get(item as usize)?.clone().into_bytes(),
			input_proof: MerkleTree::new(&item_hashes(&inputs))?.proof(item)?,
			output: *output_hashes.get(item as usize)?,
			output_proof: MerkleTree::new(&output_hashes)?.proof(item)?,
		})
	}

	/// What the agent's side of a bisection opens its node at `position` of `level` into, from
	/// the outputs whose root, `root`, it revealed.
	pub fn opening(&self, items: u32, root: &H256, level: u32, position: u32) -> Option<Opening> {
		let outputs = self.finished_outputs(items, root)?;
		let hashes = item_hashes(&outputs);
		MerkleTree::new(&hashes)?.opening(&hashes, level, position)
	}
}

/// An item of a batch as shown on chain in a dispute over it.
pub struct ItemShowing {
	/// The item's input.
	pub input: Vec<u8>,
	/// Its proof against the batch's inputs root.
	pub input_proof: Vec<H256>,
	/// The hash of the item's output.
	pub output: H256,
	/// Its proof against the outputs root.
	pub output_proof: Vec<H256>,
}

/// Writes `bytes` to `path` durably: a new file, synced, renamed over the old one, and the
/// directory synced.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
	let tmp = path.with_extension("new");
	let mut file = std::fs::File::create(&tmp)?;
	file.write_all(bytes)?;
	file.sync_all()?;
	std::fs::rename(&tmp, path)?;
	match path.parent() {
		Some(dir) => sync_dir(dir),
		None => Ok(()),
	}
}

/// Syncs a directory, so that the files created or renamed in it survive a power cut.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
	std::fs::File::open(dir)?.sync_all()
}

/// A batch to run: everything the run needs, read from the chain when it starts.
pub struct BatchJob {
	pub dir: BatchDir,
	pub binding: H256,
	pub model_name: String,
	pub sampling: Sampling,
	/// The inputs root, the inputs document's URI and the number of items.
	pub root: H256,
	pub uri: Vec<u8>,
	pub items: u32,
	/// The chain's bounds: an item's length (`MaxInputLen`), a document's size, an output's
	/// (`MaxOutputLen`).
	pub max_item_len: usize,
	pub max_document: usize,
	pub max_output_len: usize,
	/// When the commit phase's time for calls ends.
	pub deadline: Instant,
	/// The block the run starts at, and the block the commit phase started in (if known): a
	/// transient fault fetching the inputs there is met with one more fetch ([`calls_again`]).
	pub now: u64,
	pub first_block: Option<u64>,
}

/// How a batch's run ended.
pub enum BatchOutcome {
	/// Every item is done: the outputs root.
	Root(H256),
	/// The inputs document cannot be obtained or is not the chain's: answered as an unavailable
	/// input.
	InputUnavailable(Fault),
	/// A fault a later attempt may not have: started again (and continued) by a later block.
	Again(Fault),
	/// Given up: no result.
	GiveUp(String),
}

impl BatchJob {
	/// Runs the batch from the first item not stored, until every item is done, the commit
	/// phase's time is over, or an item's call fails.
	pub async fn run(self, endpoint: &Endpoint) -> BatchOutcome {
		let inputs = match self.dir.inputs(&self.root, self.items, self.max_item_len) {
			Some(inputs) => inputs,
			None => match self.fetch_inputs(endpoint).await {
				Ok(inputs) => inputs,
				Err(outcome) => return outcome,
			},
		};
		let mut outputs = match self.dir.continued_outputs(&self.binding) {
			Ok(outputs) => outputs,
			Err(e) => return BatchOutcome::GiveUp(format!("cannot read the stored outputs: {e}")),
		};
		outputs.truncate(self.items as usize);
		while outputs.len() < inputs.len() {
			let item = outputs.len();
			if Instant::now() >= self.deadline {
				return BatchOutcome::Again(Fault::TooLate);
			}
			let call_deadline = (Instant::now() + endpoint.timeout).min(self.deadline);
			let output = match endpoint
				.complete(&self.model_name, &inputs[item], &self.sampling, call_deadline)
				.await
			{
				Ok(output) => truncate_output(output, self.max_output_len),
				Err(fault) if fault.is_transient() => return BatchOutcome::Again(fault),
				Err(fault) => return BatchOutcome::GiveUp(format!("item {item}: {fault}")),
			};
			if let Err(e) = self.dir.append(&output) {
				return BatchOutcome::GiveUp(format!(
					"cannot store the output of item {item}: {e}"
				));
			}
			outputs.push(output);
		}
		if let Err(e) = self.dir.sync_outputs() {
			return BatchOutcome::GiveUp(format!("cannot store the outputs: {e}"));
		}
		match MerkleTree::new(&item_hashes(&outputs)) {
			Some(tree) => BatchOutcome::Root(tree.root()),
			None => BatchOutcome::GiveUp("the batch's outputs do not make a root".into()),
		}
	}

	/// Fetches the inputs document and checks it against the chain's root, count and bounds
	/// (the chain's, not the agent's response limit: every honest executor refuses the same
	/// documents), keeping it once it passes.
	async fn fetch_inputs(&self, endpoint: &Endpoint) -> Result<Vec<String>, BatchOutcome> {
		let deadline = (Instant::now() + endpoint.timeout).min(self.deadline);
		let fetched = match agentchain_execution::fetchable_uri(&self.uri) {
			Some(uri) => endpoint.fetch(uri, self.max_document, deadline).await,
			None => Err(Fault::InputUnavailable),
		};
		let bytes = match fetched {
			Ok(bytes) => bytes,
			Err(fault) if calls_again(&fault, self.now, self.first_block) => {
				return Err(BatchOutcome::Again(fault))
			},
			// Any other fault is the input's, as for a referenced input.
			Err(_) => return Err(BatchOutcome::InputUnavailable(Fault::InputUnavailable)),
		};
		let inputs = checked_items(&bytes, &self.root, self.items, self.max_item_len)
			.map_err(BatchOutcome::InputUnavailable)?;
		if let Err(e) = self.dir.keep_inputs(&bytes) {
			return Err(BatchOutcome::GiveUp(format!("cannot keep the inputs: {e}")));
		}
		Ok(inputs)
	}
}

/// The most bytes a batch's inputs document may have, under the chain's bounds.
pub fn max_inputs_document(max_batch_items: u32, max_item_len: u32) -> usize {
	max_document_bytes(max_batch_items, max_item_len) as usize
}

#[cfg(test)]
mod tests {
	use super::*;
	use agentchain_execution::{batch::root, merkle::verify};

	fn temp_dir(name: &str) -> PathBuf {
		let dir = std::env::temp_dir()
			.join(format!("agentchain-edge-batch-{name}-{}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		dir
	}

	#[test]
	fn a_directory_name_gives_back_its_assignment() {
		let key: WorkKey = (42, [7; 32], 3);
		assert_eq!(key_of_dir(&dir_name(&key)), Some(key));
		assert_eq!(key_of_dir("42-07-3"), None);
		assert_eq!(key_of_dir(&format!("{}-x", dir_name(&key))), None);
		assert_ne!(document_name(&key), document_name(&(42, [7; 32], 4)));
	}

	#[test]
	fn outputs_survive_a_restart_and_a_torn_record_is_run_again() {
		let state = temp_dir("torn");
		let key: WorkKey = (1, [2; 32], 0);
		let dir = BatchDir::of(&state, &key);
		let binding = H256([5; 32]);
		assert!(dir.continued_outputs(&binding).unwrap().is_empty());
		dir.append(b"first").unwrap();
		dir.append(b"second").unwrap();
		// A crash in the middle of the third record's write.
		let third = Record { output: b"third".to_vec(), hash: hash_of(b"third").0 }.encode();
		let path = dir.path.join("outputs.scale");
		let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
		file.write_all(&third[..third.len() - 2]).unwrap();
		drop(file);
		let reopened = BatchDir::of(&state, &key);
		let two = vec![b"first".to_vec(), b"second".to_vec()];
		// Read as it is, the torn record is left out and stays on disk.
		assert_eq!(reopened.kept_outputs().unwrap(), two);
		assert_eq!(reopened.continued_outputs(&binding).unwrap(), two);
		// Continued, the torn tail is gone: the next output follows the whole ones.
		reopened.append(b"third").unwrap();
		assert_eq!(reopened.continued_outputs(&binding).unwrap().len(), 3);
		// A tail of zeros (what some file systems leave after a power cut) is not an output,
		// though a zero byte alone decodes as an empty one.
		let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
		file.write_all(&[0; 64]).unwrap();
		drop(file);
		assert_eq!(reopened.kept_outputs().unwrap().len(), 3);
		assert_eq!(reopened.continued_outputs(&binding).unwrap().len(), 3);
		// Another binding (another endpoint, say) starts over, and never reads the old outputs.
		assert!(reopened.continued_outputs(&H256([6; 32])).unwrap().is_empty());
		assert!(reopened.continued_outputs(&binding).unwrap().is_empty());
		BatchDir::remove(&state, &key);
		assert!(!reopened.path.exists());
		let _ = std::fs::remove_dir_all(&state);
	}

	#[test]
	fn an_item_is_shown_with_proofs_against_both_roots_and_only_for_the_root_kept() {
		let state = temp_dir("show");
		let key: WorkKey = (9, [1; 32], 0);
		let dir = BatchDir::of(&state, &key);
		let binding = H256([3; 32]);
		let inputs: Vec<String> = (0..5).map(|i| format!("prompt {i}")).collect();
		let outputs: Vec<String> = (0..5).map(|i| format!("output {i}")).collect();
		let inputs_root = root(&inputs).unwrap();
		let outputs_root = root(&outputs).unwrap();
		dir.keep_inputs(&document(&inputs)).unwrap();
		assert_eq!(dir.inputs(&inputs_root, 5, 100), Some(inputs.clone()));
		// A document kept that is not the chain's is not read.
		assert_eq!(dir.inputs(&H256([0; 32]), 5, 100), None);
		assert!(dir.continued_outputs(&binding).unwrap().is_empty());
		for output in &outputs[..4] {
			dir.append(output.as_bytes()).unwrap();
		}
		// Not every item done: nothing to show, publish or open.
		assert!(dir.item_showing(&inputs_root, 5, 100, &outputs_root, 2).is_none());
		dir.append(outputs[4].as_bytes()).unwrap();
		let ItemShowing { input, input_proof, output, output_proof } =
			dir.item_showing(&inputs_root, 5, 100, &outputs_root, 2).unwrap();
		assert_eq!(input, b"prompt 2");
		assert!(verify(&inputs_root, 5, 2, &hash_of(&input), &input_proof));
		assert_eq!(output, hash_of(b"output 2"));
		assert!(verify(&outputs_root, 5, 2, &output, &output_proof));
		// A root the outputs kept do not make is never shown or published as theirs.
		assert!(dir.item_showing(&inputs_root, 5, 100, &H256([8; 32]), 2).is_none());
		assert!(dir.outputs_document(5, &H256([8; 32])).is_none());
		assert_eq!(dir.outputs_document(5, &outputs_root), Some(document(&outputs)));
		assert!(dir.opening(5, &outputs_root, 0, 4).is_some());
		assert!(dir.opening(5, &H256([8; 32]), 0, 4).is_none());
		// Committed work is read whatever the agent's binding has become since (another
		// endpoint, say): what it committed to is still shown, published and opened.
		let moved = BatchDir::of(&state, &key);
		assert!(moved.item_showing(&inputs_root, 5, 100, &outputs_root, 2).is_some());
		assert_eq!(std::fs::read(moved.path.join("binding")).unwrap(), binding.0);
		let _ = std::fs::remove_dir_all(&state);
	}
}
