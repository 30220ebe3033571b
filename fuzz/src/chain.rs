//! A chain driven block by block through `Executive`, as a block author builds blocks.

use crate::{calls, input::Source, invariants, logs, seeds::Seed, Failure, Stats};
use agentchain_runtime::{
	configs::BlockHashCount, AccountId, Executive, Header, Runtime, RuntimeCall,
	RuntimeGenesisConfig, SignedPayload, System, TxExtension, UncheckedExtrinsic, SLOT_DURATION,
};
use codec::Encode;
use frame_support::dispatch::GetDispatchInfo;
use sp_core::{Pair, H256};
use sp_keyring::Ed25519Keyring;
use sp_runtime::{
	generic::Era,
	traits::{Header as _, SaturatedConversion},
	BuildStorage, Digest, DigestItem, StateVersion,
};

/// A running chain: its state, the hash of its last block, and what was done on it.
pub struct Chain {
	ext: sp_io::TestExternalities,
	parent: H256,
	/// Total issuance when the open block started.
	issuance: u128,
	/// What this chain did.
	pub stats: Stats,
}

impl Chain {
	/// The `development` preset's genesis, block 0 finalized.
	pub fn genesis() -> Self {
		let preset = agentchain_runtime::genesis_config_presets::get_preset(
			&sp_genesis_builder::PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		)
		.expect("the runtime has a development preset");
		let mut config =
			serde_json::to_value(RuntimeGenesisConfig::default()).expect("the default serialises");
		merge(&mut config, serde_json::from_slice(&preset).expect("the preset is JSON"));
		let endowed = config["balances"]["balances"].as_array_mut().expect("a list of endowments");
		for signer in &calls::SIGNERS[..calls::ENDOWED_SIGNERS] {
			endowed.push(serde_json::json!([
				calls::account_of(*signer),
				agentchain_runtime::genesis_config_presets::ENDOWMENT
			]));
		}
		let config: RuntimeGenesisConfig =
			serde_json::from_value(config).expect("the preset is a genesis config");
		let storage = config.build_storage().expect("the genesis builds");
		let mut ext = sp_io::TestExternalities::new_with_state_version(storage, StateVersion::V1);
		let parent = ext.execute_with(|| System::block_hash(0));
		Self { ext, parent, issuance: 0, stats: Stats::default() }
	}

	/// A chain in the state of `seed`.
	pub fn from_seed(seed: &Seed) -> Self {
		let ext = sp_io::TestExternalities::from_raw_snapshot(
			seed.raw.clone(),
			seed.root,
			StateVersion::V1,
		);
		Self { ext, parent: seed.parent, issuance: 0, stats: Stats::default() }
	}

	/// This chain's state as a seed (closes no block: call between blocks).
	pub fn into_seed(mut self, name: &'static str) -> Seed {
		self.ext.commit_all().expect("no transaction is open between blocks");
		let parent = self.parent;
		let (raw, root) = self.ext.into_raw_snapshot();
		Seed { name, raw, root, parent }
	}

	/// Runs `f` in the chain's state.
	pub fn exec<R>(&mut self, f: impl FnOnce() -> R) -> R {
		self.ext.execute_with(f)
	}

	/// The hash of the last block closed.
	pub fn head(&self) -> H256 {
		self.parent
	}

	/// The number of the open (or last) block.
	pub fn number(&mut self) -> u32 {
		self.exec(System::block_number)
	}

	/// Opens the next block: its Aura slot (`skipped` slots after the last block's: slots without
	/// a block, as when authors are offline), then the timestamp inherent of that slot.
	pub fn open_block(&mut self, skipped: u64) -> Result<(), Failure> {
		let parent = self.parent;
		let issuance = self.ext.execute_with(|| {
			let number = System::block_number() + 1;
			let last = u64::from(pallet_aura::CurrentSlot::<Runtime>::get());
			let slot = sp_consensus_aura::Slot::from(last + 1 + skipped);
			let digest = Digest {
				logs: vec![DigestItem::PreRuntime(
					sp_consensus_aura::AURA_ENGINE_ID,
					slot.encode(),
				)],
			};
			let header = Header::new(number, H256::zero(), H256::zero(), parent, digest);
			let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
			Executive::initialize_block(&header);
			let now = u64::from(slot) * SLOT_DURATION;
			let inherent =
				UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
					now,
				}));
			let applied = Executive::apply_extrinsic(inherent);
			Executive::inherents_applied();
			(issuance, applied)
		});
		match issuance {
			(issuance, Ok(Ok(()))) => {
				self.issuance = issuance;
				self.logged()
			},
			(_, other) => Err(self.failure(format!("the timestamp inherent failed: {other:?}"))),
		}
	}

	/// Closes the open block (`finalize_block`) and checks every invariant.
	pub fn close_block(&mut self) -> Result<(), Failure> {
		let issuance = self.issuance;
		let checked = self.ext.execute_with(|| {
			let header = Executive::finalize_block();
			// What the runtime logged while finalizing is reported as such, before any check
			// (a failed try_state logs too).
			let logged = logs::take();
			if !logged.is_empty() {
				let message = format!("the runtime logged errors: {}", logged.join(" | "));
				return (header.hash(), Err((header.number, message)));
			}
			let checked = invariants::block_weight()
				.and_then(|checks| Ok(checks + invariants::after_block(issuance)?))
				.map_err(|message| (header.number, message));
			(header.hash(), checked)
		});
		self.parent = checked.0;
		self.stats.blocks += 1;
		match checked.1 {
			Ok(checks) => {
				self.stats.checks += checks;
				self.logged()
			},
			Err((block, message)) => Err(Failure { block, message }),
		}
	}

	/// Walks the whole state and checks that no storage item holds entries beyond its bound or
	/// without what backs them ([`crate::storage`]); between blocks.
	pub fn check_storage(&mut self) -> Result<(), Failure> {
		let checked = self.exec(crate::storage::check);
		match checked {
			Ok(checks) => {
				self.stats.checks += checks;
				// An entry the walk's iterators could not decode is logged.
				self.logged()
			},
			Err(message) => Err(self.failure(message)),
		}
	}

	/// Signs a call that `src` describes with `signer`'s key and applies it in the open block.
	pub fn submit(&mut self, src: &mut Source) -> Result<(), Failure> {
		let applied = self.ext.execute_with(|| {
			let signer = calls::signer(src);
			let who = calls::account_of(signer);
			let call = calls::call(src, &who);
			let xt = sign(signer, &who, call, src.below(8) == 0);
			let declared = xt.get_dispatch_info();
			(apply(xt), declared)
		});
		match applied {
			(Ok(outcome), declared) => {
				self.stats.extrinsics += 1;
				if outcome.is_ok() {
					self.stats.succeeded += 1;
				}
				let checks = self
					.exec(|| invariants::after_extrinsic(&declared))
					.map_err(|message| self.failure(message))?;
				self.stats.checks += checks;
			},
			(Err(_), _) => self.stats.refused += 1,
		}
		self.logged()
	}

	/// Applies `call`, signed by `signer`, in the open block, and returns what the runtime made
	/// of it (for the seeds, which need their calls to succeed).
	pub fn apply(
		&mut self,
		signer: Ed25519Keyring,
		call: RuntimeCall,
	) -> sp_runtime::ApplyExtrinsicResult {
		let who = calls::account_of(signer);
		self.exec(|| apply(sign(signer, &who, call, false)))
	}

	fn failure(&mut self, message: String) -> Failure {
		Failure { block: self.number(), message }
	}

	/// A failure if the runtime logged an error since the last look.
	fn logged(&mut self) -> Result<(), Failure> {
		let errors = logs::take();
		if errors.is_empty() {
			Ok(())
		} else {
			Err(self.failure(format!("the runtime logged errors: {}", errors.join(" | "))))
		}
	}
}

/// `call` as an extrinsic signed by `signer` (account `who`) with its next nonce, immortal or
/// mortal from the current block, as a wallet signs it.
/// Applies an extrinsic as a block author does: in a storage transaction, rolled back when the
/// extrinsic is refused (it is then left out of the block).
fn apply(xt: UncheckedExtrinsic) -> sp_runtime::ApplyExtrinsicResult {
	sp_io::storage::start_transaction();
	let result = Executive::apply_extrinsic(xt);
	if result.is_ok() {
		sp_io::storage::commit_transaction();
	} else {
		sp_io::storage::rollback_transaction();
	}
	result
}

fn sign(
	signer: Ed25519Keyring,
	who: &AccountId,
	call: RuntimeCall,
	immortal: bool,
) -> UncheckedExtrinsic {
	let nonce = System::account_nonce(who);
	let era = if immortal {
		Era::Immortal
	} else {
		let period = BlockHashCount::get().checked_next_power_of_two().map_or(2, |p| p / 2);
		let current = System::block_number().saturating_sub(1);
		Era::mortal(u64::from(period), current.saturated_into())
	};
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(era),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		agentchain_runtime::duties::PrioritizeDuties,
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	let payload = SignedPayload::new(call, extension).expect("the implicit data is in storage");
	let signature = payload.using_encoded(|bytes| calls::pair(signer).sign(bytes));
	let signature = sp_runtime::MultiSignature::Ed25519(signature);
	let (call, extension, _) = payload.deconstruct();
	UncheckedExtrinsic::new_signed(call, who.clone().into(), signature, extension)
}

/// Merges the JSON `patch` into `base`, as the node merges a preset into the default config (a
/// preset is a patch: the fields it leaves out keep their defaults).
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}
