//! An agent node's inference options: the endpoint its off-chain workers call, and its operator
//! key.
//!
//! The options are turned into an [`EndpointConfig`] and written to offchain local storage when
//! the node starts (see `pallet_inference::offchain`); they never reach chain state. Without
//! `--inference-endpoint` the stored configuration is removed and the node executes no tasks.

use agentchain_primitives::{
	offchain::{
		parse_model_mapping, EndpointApi, EndpointConfig, ModelMapping, NodeStart,
		ENDPOINT_CONFIG_KEY, NODE_START_KEY, OUTPUTS_URL_KEY, SALT_SECRET_KEY,
	},
	OPERATOR_KEY_TYPE,
};
use codec::Encode;
use sp_core::offchain::OffchainStorage;
use sp_keystore::Keystore;
use std::path::PathBuf;

/// Environment variable the API key may be given in (when `--inference-api-key-file` is not).
pub const API_KEY_ENV: &str = "AGENTCHAIN_INFERENCE_API_KEY";

/// Which OpenAI-compatible API the endpoint is called through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InferenceApi {
	/// `POST {endpoint}/chat/completions`, the prompt as one user message.
	Chat,
	/// `POST {endpoint}/completions`, the prompt as it is.
	Completions,
}

/// Options of an agent node: the inference endpoint its off-chain worker calls.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Agent node (inference endpoint)")]
pub struct InferenceParams {
	/// Base URL of the OpenAI-compatible inference API this node's off-chain worker calls for the
	/// tasks assigned to its operator key (vLLM, llama.cpp server, Ollama, a hosted provider, or
	/// `agentchain-inference-server`), e.g. `http://127.0.0.1:8080/v1`. Kept in offchain local
	/// storage, never in chain state. Off-chain workers must run: they do by default on a
	/// validator; elsewhere add `--offchain-worker always`.
	#[arg(long, value_name = "URL")]
	pub inference_endpoint: Option<String>,

	/// The API to call: `chat` (`POST {URL}/chat/completions`) or `completions`
	/// (`POST {URL}/completions`).
	#[arg(long, value_enum, value_name = "API", default_value_t = InferenceApi::Chat)]
	pub inference_api: InferenceApi,

	/// File holding the API key, sent as `Authorization: Bearer <key>`. Without it, the key is
	/// read from the `AGENTCHAIN_INFERENCE_API_KEY` environment variable, if set. The key is
	/// never logged and never leaves the node except to the endpoint.
	#[arg(long, value_name = "PATH")]
	pub inference_api_key_file: Option<PathBuf>,

	/// A model this node serves (repeat for several): `NAME` (the on-chain model id is
	/// `blake2_256(NAME)` and the endpoint knows it as NAME), `NAME=ENDPOINT_NAME`, or
	/// `0x<model id>=ENDPOINT_NAME`. Tasks for models not listed are left to expire.
	#[arg(
		long = "inference-model",
		value_name = "MODEL[=ENDPOINT_NAME]",
		value_parser = parse_model_mapping
	)]
	pub inference_models: Vec<ModelMapping>,

	/// Longest time one endpoint call may take, in seconds. A task's commit deadline may cut a
	/// call shorter.
	#[arg(long, value_name = "SECONDS", default_value_t = 20)]
	pub inference_timeout: u64,

	/// Largest response body accepted from the endpoint, in bytes.
	#[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
	pub inference_max_response_bytes: u32,

	/// Where this node publishes the outputs of the batches it runs: an `http://` or
	/// `https://` URL, readable by requesters and jurors, under which each outputs document is
	/// written with `PUT` and read with `GET` (e.g. `agentchain-inference-server --documents`, or
	/// any store that accepts `PUT`), e.g. `http://store.example:8080/documents/`. Without it,
	/// the node runs single tasks only and gives batches up.
	#[arg(long, value_name = "URL")]
	pub inference_outputs_url: Option<String>,
}

impl InferenceParams {
	/// The endpoint configuration these options give, if an endpoint is set. Reads the API key.
	pub fn endpoint_config(&self, block_time_ms: u64) -> Result<Option<EndpointConfig>, String> {
		let Some(url) = &self.inference_endpoint else {
			if !self.inference_models.is_empty()
				|| self.inference_api_key_file.is_some()
				|| self.inference_outputs_url.is_some()
			{
				return Err("`--inference-model`, `--inference-api-key-file` and \
					`--inference-outputs-url` need `--inference-endpoint`"
					.into());
			}
			return Ok(None);
		};
		if !(url.starts_with("http://") || url.starts_with("https://")) {
			return Err(format!(
				"--inference-endpoint `{url}`: expected an http:// or https:// URL"
			));
		}
		if self.inference_models.is_empty() {
			return Err("--inference-endpoint needs at least one --inference-model".into());
		}
		if self.inference_timeout == 0 {
			return Err("--inference-timeout must be at least 1 second".into());
		}
		if let Some(url) = &self.inference_outputs_url {
			let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
			if rest.is_none_or(|rest| rest.trim_end_matches('/').is_empty()) {
				return Err(format!(
					"--inference-outputs-url `{url}`: expected an http:// or https:// URL"
				));
			}
		}
		let api_key = match &self.inference_api_key_file {
			Some(path) => {
				let key = std::fs::read_to_string(path).map_err(|error| {
					format!("--inference-api-key-file {}: {error}", path.display())
				})?;
				let key = key.trim();
				if key.is_empty() {
					return Err(format!("--inference-api-key-file {} is empty", path.display()));
				}
				Some(key.as_bytes().to_vec())
			},
			None => std::env::var(API_KEY_ENV)
				.ok()
				.map(|key| key.trim().to_string())
				.filter(|key| !key.is_empty())
				.map(String::into_bytes),
		};
		Ok(Some(EndpointConfig {
			base_url: url.trim_end_matches('/').as_bytes().to_vec(),
			api: match self.inference_api {
				InferenceApi::Chat => EndpointApi::Chat,
				InferenceApi::Completions => EndpointApi::Completions,
			},
			api_key,
			models: self
				.inference_models
				.iter()
				.map(|mapping| (mapping.id, mapping.name.as_bytes().to_vec()))
				.collect(),
			timeout_ms: self.inference_timeout.saturating_mul(1000),
			max_response_bytes: self.inference_max_response_bytes,
			block_time_ms,
		}))
	}

	/// Where the node publishes batch outputs (`--inference-outputs-url`), ending in `/`:
	/// documents go under it, `{URL}/{name}`.
	pub fn outputs_url(&self) -> Option<Vec<u8>> {
		self.inference_outputs_url
			.as_ref()
			.map(|url| format!("{}/", url.trim_end_matches('/')).into_bytes())
	}
}

/// Writes the endpoint configuration and the outputs URL to offchain local storage, or removes
/// them.
pub fn store_endpoint_config(
	storage: &mut impl OffchainStorage,
	config: Option<&EndpointConfig>,
	outputs_url: Option<Vec<u8>>,
) {
	match config {
		Some(config) => {
			storage.set(sp_offchain::STORAGE_PREFIX, ENDPOINT_CONFIG_KEY, &config.encode())
		},
		None => storage.remove(sp_offchain::STORAGE_PREFIX, ENDPOINT_CONFIG_KEY),
	}
	match outputs_url.filter(|_| config.is_some()) {
		Some(url) => storage.set(sp_offchain::STORAGE_PREFIX, OUTPUTS_URL_KEY, &url.encode()),
		None => storage.remove(sp_offchain::STORAGE_PREFIX, OUTPUTS_URL_KEY),
	}
}

/// Writes a new start marker to offchain local storage: the off-chain workers' locks of this run
/// of the node are keyed by it, so that locks left by an earlier run that died (killed in the
/// middle of an endpoint call) hold nothing back (`agentchain_primitives::offchain::work_lock_key`).
pub fn store_node_start(storage: &mut impl OffchainStorage) {
	let now = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |elapsed| elapsed.as_nanos());
	let marker: NodeStart = sp_io::hashing::blake2_128(&(now, std::process::id()).encode());
	storage.set(sp_offchain::STORAGE_PREFIX, NODE_START_KEY, &marker);
}

/// Writes the salt secret the off-chain workers derive their commitments' salts from
/// (`agentchain_primitives::offchain::commitment_salt`), once: 32 bytes from the operating
/// system's random source at an agent node's first start (one with an inference endpoint), kept
/// as they are at every later start (anything else stored there is replaced).
pub fn store_salt_secret(storage: &mut impl OffchainStorage) {
	let stored = storage.get(sp_offchain::STORAGE_PREFIX, SALT_SECRET_KEY);
	if stored.is_none_or(|secret| secret.len() != 32) {
		// The seed of a fresh key pair: 32 bytes of the operating system's random source.
		use sp_core::Pair;
		let (_, secret) = sp_core::sr25519::Pair::generate();
		storage.set(sp_offchain::STORAGE_PREFIX, SALT_SECRET_KEY, &secret);
	}
}

/// Inserts the development operator key `<seed>//operator` (for `--alice`: `//Alice//operator`),
/// and returns the operator keys the keystore holds.
pub fn operator_keys(
	keystore: &dyn Keystore,
	dev_key_seed: Option<&str>,
) -> Result<Vec<sp_core::sr25519::Public>, String> {
	if let Some(seed) = dev_key_seed {
		keystore
			.sr25519_generate_new(OPERATOR_KEY_TYPE, Some(&format!("{seed}//operator")))
			.map_err(|error| format!("cannot insert the development operator key: {error}"))?;
	}
	Ok(keystore.sr25519_public_keys(OPERATOR_KEY_TYPE))
}

#[cfg(test)]
mod tests {
	use super::*;
	use agentchain_primitives::offchain::model_id_of_name;
	use clap::Parser;

	#[derive(Debug, clap::Parser)]
	struct Options {
		#[clap(flatten)]
		inference: InferenceParams,
	}

	fn parse(args: &[&str]) -> Result<InferenceParams, clap::Error> {
		Options::try_parse_from(std::iter::once("agentchain-node").chain(args.iter().copied()))
			.map(|options| options.inference)
	}

	#[test]
	fn options_make_the_stored_configuration() {
		let dir = std::env::temp_dir().join(format!("agentchain-key-{}", std::process::id()));
		std::fs::write(&dir, "sk-from-file\n").unwrap();
		let params = parse(&[
			"--inference-endpoint",
			"http://127.0.0.1:8080/v1/",
			"--inference-model",
			"ngram-en",
			"--inference-api-key-file",
			dir.to_str().unwrap(),
			"--inference-timeout",
			"7",
		])
		.unwrap();
		let config = params.endpoint_config(3_000).unwrap().unwrap();
		std::fs::remove_file(&dir).unwrap();
		assert_eq!(config.base_url, b"http://127.0.0.1:8080/v1");
		assert_eq!(config.api, EndpointApi::Chat);
		assert_eq!(config.api_key.as_deref(), Some(&b"sk-from-file"[..]));
		assert_eq!(config.models, vec![(model_id_of_name("ngram-en"), b"ngram-en".to_vec())]);
		assert_eq!((config.timeout_ms, config.block_time_ms), (7_000, 3_000));
		assert!(!format!("{config:?}").contains("sk-from-file"));
	}

	#[test]
	fn bad_options_are_refused_with_a_message() {
		let without_models = parse(&["--inference-endpoint", "http://x/v1"]).unwrap();
		assert!(without_models.endpoint_config(3_000).unwrap_err().contains("--inference-model"));
		let not_http =
			parse(&["--inference-endpoint", "ftp://x", "--inference-model", "m"]).unwrap();
		assert!(not_http.endpoint_config(3_000).unwrap_err().contains("http://"));
		let missing_file = parse(&[
			"--inference-endpoint",
			"http://x/v1",
			"--inference-model",
			"m",
			"--inference-api-key-file",
			"/nonexistent/key",
		])
		.unwrap();
		assert!(missing_file.endpoint_config(3_000).unwrap_err().contains("/nonexistent/key"));
		let models_alone = parse(&["--inference-model", "m"]).unwrap();
		assert!(models_alone.endpoint_config(3_000).is_err());
		assert!(parse(&["--inference-api", "stream"]).is_err());
		assert_eq!(parse(&[]).unwrap().endpoint_config(3_000), Ok(None));
		// The outputs URL: an http(s) URL with a host, and only with an endpoint.
		let with_outputs = |url: &str| {
			parse(&[
				"--inference-endpoint",
				"http://x/v1",
				"--inference-model",
				"m",
				"--inference-outputs-url",
				url,
			])
			.unwrap()
		};
		for url in ["ftp://store/", "http://", "https:///", "store/documents"] {
			let error = with_outputs(url).endpoint_config(3_000).unwrap_err();
			assert!(error.contains("--inference-outputs-url"), "{url}: {error}");
		}
		let store = with_outputs("http://127.0.0.1:8080/documents");
		assert!(store.endpoint_config(3_000).unwrap().is_some());
		assert_eq!(store.outputs_url().unwrap(), b"http://127.0.0.1:8080/documents/");
		let outputs_alone = parse(&["--inference-outputs-url", "http://store/"]).unwrap();
		let error = outputs_alone.endpoint_config(3_000).unwrap_err();
		assert!(error.contains("--inference-endpoint"), "{error}");
	}

	#[test]
	fn each_start_writes_a_new_start_marker() {
		let mut storage = sp_core::offchain::storage::InMemOffchainStorage::default();
		store_node_start(&mut storage);
		let first = storage.get(sp_offchain::STORAGE_PREFIX, NODE_START_KEY).unwrap();
		assert_eq!(first.len(), 16);
		store_node_start(&mut storage);
		let second = storage.get(sp_offchain::STORAGE_PREFIX, NODE_START_KEY).unwrap();
		assert_ne!(first, second);
	}

	#[test]
	fn the_salt_secret_is_written_once_and_kept() {
		let mut storage = sp_core::offchain::storage::InMemOffchainStorage::default();
		store_salt_secret(&mut storage);
		let first = storage.get(sp_offchain::STORAGE_PREFIX, SALT_SECRET_KEY).unwrap();
		assert_eq!(first.len(), 32);
		store_salt_secret(&mut storage);
		assert_eq!(storage.get(sp_offchain::STORAGE_PREFIX, SALT_SECRET_KEY).unwrap(), first);
		// A value that cannot be a secret is replaced.
		storage.set(sp_offchain::STORAGE_PREFIX, SALT_SECRET_KEY, &[1, 2, 3]);
		store_salt_secret(&mut storage);
		assert_eq!(storage.get(sp_offchain::STORAGE_PREFIX, SALT_SECRET_KEY).unwrap().len(), 32);
		// Another node draws another.
		let mut other = sp_core::offchain::storage::InMemOffchainStorage::default();
		store_salt_secret(&mut other);
		assert_ne!(other.get(sp_offchain::STORAGE_PREFIX, SALT_SECRET_KEY).unwrap(), first);
	}

	#[test]
	fn the_configuration_is_stored_and_removed() {
		let mut storage = sp_core::offchain::storage::InMemOffchainStorage::default();
		let config = parse(&["--inference-endpoint", "http://x/v1", "--inference-model", "m"])
			.unwrap()
			.endpoint_config(3_000)
			.unwrap();
		store_endpoint_config(&mut storage, config.as_ref(), Some(b"http://d/".to_vec()));
		let stored = storage.get(sp_offchain::STORAGE_PREFIX, ENDPOINT_CONFIG_KEY).unwrap();
		assert_eq!(Some(codec::Decode::decode(&mut &stored[..]).unwrap()), config);
		let url = storage.get(sp_offchain::STORAGE_PREFIX, OUTPUTS_URL_KEY).unwrap();
		assert_eq!(<Vec<u8> as codec::Decode>::decode(&mut &url[..]).unwrap(), b"http://d/");
		store_endpoint_config(&mut storage, None, Some(b"http://d/".to_vec()));
		assert_eq!(storage.get(sp_offchain::STORAGE_PREFIX, ENDPOINT_CONFIG_KEY), None);
		assert_eq!(storage.get(sp_offchain::STORAGE_PREFIX, OUTPUTS_URL_KEY), None);
	}

	#[test]
	fn a_development_seed_gives_its_operator_key() {
		let keystore = sp_keystore::testing::MemoryKeystore::new();
		assert!(operator_keys(&keystore, None).unwrap().is_empty());
		let keys = operator_keys(&keystore, Some("//Alice")).unwrap();
		assert_eq!(keys.len(), 1);
		assert_eq!(keys[0].0, agentchain_runtime::genesis_config_presets::DEV_OPERATOR_KEYS[0]);
	}
}
