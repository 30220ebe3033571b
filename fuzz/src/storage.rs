//! No storage grows without a bound or something that pays for it.
//!
//! Every key in the state is walked and attributed to the storage item it belongs to, by the
//! 32-byte prefix (`twox128(pallet) ++ twox128(item)`) that FRAME gives each item and reports in
//! [`StorageInfoTrait`]: the runtime's own list of its items, so an item added to any pallet is
//! covered without a change here. Then:
//!
//! - a key that belongs to no item (nor is a pallet's storage version, one of the well-known `:`
//!   keys the runtime uses, or the session length a test network may set) fails: something wrote
//!   where nothing reads; the runtime has no child trie, and a child trie's root fails too;
//! - an item with a declared bound (`max_values`: every value) holds at most that many entries,
//!   and a value's key is its 32-byte prefix and nothing more;
//! - every other item (a map) that holds entries must be listed in [`BACKINGS`] with what backs its
//!   entries, and that is checked entry by entry: an account that holds at least the existential
//!   deposit, a record that holds a storage deposit, a parent entry that is itself backed, a window
//!   of blocks or epochs that a cursor moves on. An entry whose backing is gone (the task pruned
//!   but its output left, a deadline behind its cursor that no hook will reach again, a record of
//!   a reaped account) is storage that grows with use and never shrinks.
//!
//! Every check decodes the keys it checks, and every value of a listed map is decoded as the map's
//! value type to its last byte; the numbers decoded must be the number of keys the walk counted:
//! FRAME's iterators skip an entry that does not decode (logging an error), and decode a value
//! without requiring that nothing follows it (any bytes pass for a `()`), so a corrupt entry would
//! otherwise be counted and never checked.
//!
//! An unlisted map with entries fails as well: whoever adds a map says what bounds it.

use agentchain_runtime::{AllPalletsWithSystem, Balances, Runtime, System};
use frame_support::traits::{Get, StorageInfoTrait};
use std::collections::BTreeMap;

/// Checks a map's entries, given its prefix and how many keys the walk counted under it, and
/// returns how many entries it decoded and checked.
type Check = fn(&[u8], u32) -> Result<u32, String>;

/// The check that every key of an account-keyed map is an account that exists.
macro_rules! keyed_by_accounts {
	($map:ty) => {
		|_, _| each(<$map>::iter_keys(), "an entry of an account that does not exist", has_account)
	};
}

/// Checks that every value under a map's prefix decodes as the map's value type, to its last
/// byte, and returns how many there were.
type Values = fn(&[u8]) -> Result<u32, String>;

/// [`Values`] of a map, its value type taken from its `StoragePrefixedMap` implementation.
macro_rules! values {
	($map:ty) => {
		|prefix| values_of::<_, $map>(prefix)
	};
}

/// A map that may hold entries: what backs them, the check that every entry is so backed, and
/// the check of its values.
pub struct Backing {
	/// Pallet and storage item names, as in the metadata.
	pub item: (&'static str, &'static str),
	/// What backs each entry, in words (failures name it).
	pub backed_by: &'static str,
	/// That every entry is backed; it returns how many entries it decoded.
	pub check: Check,
	/// That every value decodes, whether or not `check` reads it.
	pub values: Values,
}

/// The maps (items without a declared bound) that may hold entries.
pub const BACKINGS: &[Backing] = &[
	Backing {
		item: ("System", "Account"),
		backed_by: "the existential deposit (a pallet's own account excepted)",
		check: accounts,
		values: values!(frame_system::Account<Runtime>),
	},
	Backing {
		item: ("System", "BlockHash"),
		backed_by: "the last BlockHashCount blocks",
		check: block_hashes,
		values: values!(frame_system::BlockHash<Runtime>),
	},
	Backing {
		item: ("System", "ExtrinsicData"),
		backed_by: "the extrinsics of the open block (none once it is finalized)",
		check: none_between_blocks,
		values: |prefix| values_as::<Vec<u8>>(prefix),
	},
	Backing {
		item: ("System", "EventTopics"),
		backed_by: "the events of the last block",
		check: event_topics,
		values: |prefix| values_as::<Vec<(u32, u32)>>(prefix),
	},
	Backing {
		item: ("Balances", "Holds"),
		backed_by: "an account",
		check: keyed_by_accounts!(pallet_balances::Holds<Runtime>),
		values: values!(pallet_balances::Holds<Runtime>),
	},
	Backing {
		item: ("Balances", "Freezes"),
		backed_by: "an account",
		check: keyed_by_accounts!(pallet_balances::Freezes<Runtime>),
		values: values!(pallet_balances::Freezes<Runtime>),
	},
	Backing {
		item: ("Balances", "Locks"),
		backed_by: "an account",
		check: keyed_by_accounts!(pallet_balances::Locks<Runtime>),
		values: values!(pallet_balances::Locks<Runtime>),
	},
	Backing {
		item: ("Balances", "Reserves"),
		backed_by: "an account",
		check: keyed_by_accounts!(pallet_balances::Reserves<Runtime>),
		values: values!(pallet_balances::Reserves<Runtime>),
	},
	Backing {
		item: ("Grandpa", "SetIdSession"),
		backed_by: "the last MaxSetIdSessionEntries authority sets",
		check: grandpa_sets,
		values: values!(pallet_grandpa::SetIdSession<Runtime>),
	},
	Backing {
		item: ("Session", "NextKeys"),
		backed_by: "a validator's account (a consumer reference and the key deposit)",
		check: session_keys,
		values: values!(pallet_session::NextKeys<Runtime>),
	},
	Backing {
		item: ("Session", "KeyOwner"),
		backed_by: "the session keys of a validator",
		check: key_owners,
		values: values!(pallet_session::KeyOwner<Runtime>),
	},
	Backing {
		item: ("CollatorSelection", "LastAuthoredBlock"),
		backed_by: "an invulnerable, a bonded candidate or a member of the session's validator set",
		check: last_authored,
		values: values!(pallet_collator_selection::LastAuthoredBlock<Runtime>),
	},
	Backing {
		item: ("Agents", "Agents"),
		backed_by: "the agent's stake and storage deposit (an account)",
		check: agents,
		values: values!(pallet_agents::Registry<Runtime>),
	},
	Backing {
		item: ("Agents", "Operators"),
		backed_by: "the agent that named the operator",
		check: operators,
		values: values!(pallet_agents::Operators<Runtime>),
	},
	Backing {
		item: ("Agents", "Candidates"),
		backed_by: "registered agents that serve the model",
		check: candidates,
		values: values!(pallet_agents::Candidates<Runtime>),
	},
	Backing {
		item: ("Inference", "Tasks"),
		backed_by: "the requester's storage deposit",
		check: tasks,
		values: values!(pallet_inference::Tasks<Runtime>),
	},
	Backing {
		item: ("Inference", "Outputs"),
		backed_by: "a stored task",
		check: outputs,
		values: values!(pallet_inference::Outputs<Runtime>),
	},
	Backing {
		item: ("Inference", "AssignedTasks"),
		backed_by: "a stored task",
		check: assigned_tasks,
		values: values!(pallet_inference::AssignedTasks<Runtime>),
	},
	Backing {
		item: ("Inference", "Deadlines"),
		backed_by: "a stored task, at or after the deadline cursor",
		check: task_deadlines,
		values: values!(pallet_inference::Deadlines<Runtime>),
	},
	Backing {
		item: ("Inference", "Prepaid"),
		backed_by: "the requester's escrow hold, of at least as much",
		check: prepaid,
		values: values!(pallet_inference::Prepaid<Runtime>),
	},
	Backing {
		item: ("Inference", "ProtocolFlows"),
		backed_by: "one per kind of flow (a closed enum)",
		check: protocol_flows,
		values: values!(pallet_inference::ProtocolFlows<Runtime>),
	},
	Backing {
		item: ("Challenges", "Disputes"),
		backed_by: "the challenger's bond and a stored task",
		check: disputes,
		values: values!(pallet_challenges::Disputes<Runtime>),
	},
	Backing {
		item: ("Challenges", "JurorDuties"),
		backed_by: "an open dispute",
		check: juror_duties,
		values: values!(pallet_challenges::JurorDuties<Runtime>),
	},
	Backing {
		item: ("Challenges", "Deadlines"),
		backed_by: "an open dispute, at or after the deadline cursor",
		check: dispute_deadlines,
		values: values!(pallet_challenges::Deadlines<Runtime>),
	},
	Backing {
		item: ("DataRewards", "Datasets"),
		backed_by: "the owner's storage deposit",
		check: datasets,
		values: values!(pallet_data_rewards::Datasets<Runtime>),
	},
	Backing {
		item: ("DataRewards", "Metadata"),
		backed_by: "a registered dataset",
		check: metadata,
		values: values!(pallet_data_rewards::Metadata<Runtime>),
	},
	Backing {
		item: ("DataRewards", "DatasetByHash"),
		backed_by: "a registered dataset",
		check: datasets_by_hash,
		values: values!(pallet_data_rewards::DatasetByHash<Runtime>),
	},
	Backing {
		item: ("DataRewards", "Models"),
		backed_by: "the owner's storage deposit",
		check: models,
		values: values!(pallet_data_rewards::Models<Runtime>),
	},
	Backing {
		item: ("DataRewards", "Epochs"),
		backed_by: "the epochs from the expiry cursor to the current one",
		check: epochs,
		values: values!(pallet_data_rewards::Epochs<Runtime>),
	},
	Backing {
		item: ("DataRewards", "Attestations"),
		backed_by: "the curator's reserved stake, in an epoch not yet judged",
		check: attestations,
		values: values!(pallet_data_rewards::Attestations<Runtime>),
	},
	Backing {
		item: ("DataRewards", "FinalScores"),
		backed_by: "an epoch not yet judged",
		check: final_scores,
		values: values!(pallet_data_rewards::FinalScores<Runtime>),
	},
];

/// Walks the whole state and checks every item against its bound or backing. Returns the number
/// of checks made (one per item, one per listed map with entries).
pub fn check() -> Result<u64, String> {
	let items = AllPalletsWithSystem::storage_info();
	let by_prefix: BTreeMap<&[u8], usize> =
		items.iter().enumerate().map(|(i, item)| (&item.prefix[..], i)).collect();
	let mut counts = vec![0u32; items.len()];

	let mut key = Vec::new();
	while let Some(next) = sp_io::storage::next_key(&key) {
		key = next;
		match key.get(..32).and_then(|prefix| by_prefix.get(prefix)) {
			Some(&i) if items[i].max_values == Some(1) && key.len() != 32 => {
				return Err(format!(
					"the storage key 0x{} is under the value {}.{}, not the value's own key",
					hex(&key),
					utf8(&items[i].pallet_name),
					utf8(&items[i].storage_name)
				))
			},
			Some(&i) => counts[i] += 1,
			None if is_known_unlisted(&key) => {},
			None => {
				return Err(format!("the storage key 0x{} belongs to no storage item", hex(&key)))
			},
		}
	}

	let mut checks = 0;
	for (item, &count) in items.iter().zip(&counts) {
		let (pallet, name) = (utf8(&item.pallet_name), utf8(&item.storage_name));
		checks += 1;
		if let Some(max) = item.max_values {
			if count > max {
				return Err(format!(
					"{pallet}.{name} holds {count} entries, over its bound of {max}"
				));
			}
			continue;
		}
		if count == 0 {
			continue;
		}
		let Some(backing) = BACKINGS.iter().find(|b| b.item == (&pallet[..], &name[..])) else {
			return Err(format!(
				"{pallet}.{name} holds {count} entries, and neither a bound nor what backs its \
				 entries is declared"
			));
		};
		let values = (backing.values)(&item.prefix).map_err(|e| format!("{pallet}.{name}: {e}"))?;
		let decoded = (backing.check)(&item.prefix, count)
			.map_err(|e| format!("{pallet}.{name} (backed by {}): {e}", backing.backed_by))?;
		if decoded != count || values != count {
			return Err(format!(
				"{pallet}.{name} holds {count} keys, of which {} decode as its entries",
				decoded.min(values)
			));
		}
		checks += 1;
	}
	Ok(checks)
}

/// Keys of no storage item that the runtime uses: the well-known keys it reads or writes (its
/// code and heap pages, the index of the extrinsic being applied, a block's entropy), the session
/// length a test network may set (`configs::validators::SessionLength`), and each pallet's storage
/// version.
fn is_known_unlisted(key: &[u8]) -> bool {
	const WELL_KNOWN: [&[u8]; 4] =
		[b":code", b":heappages", b":extrinsic_index", b":intrablock_entropy"];
	WELL_KNOWN.contains(&key)
		|| key == sp_io::hashing::twox_128(b":SessionLength:")
		|| (key.len() == 32
			&& key[16..] == sp_io::hashing::twox_128(b":__STORAGE_VERSION__:")
			&& AllPalletsWithSystem::storage_info()
				.iter()
				.any(|item| item.prefix[..16] == key[..16]))
}

fn utf8(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fails with `what` and the first item of `items` for which `backed` is false; otherwise returns
/// how many items there were.
fn each<K: std::fmt::Debug>(
	items: impl IntoIterator<Item = K>,
	what: &str,
	mut backed: impl FnMut(&K) -> bool,
) -> Result<u32, String> {
	let mut count = 0;
	for item in items {
		if !backed(&item) {
			return Err(format!("{what}: {item:?}"));
		}
		count += 1;
	}
	Ok(count)
}

/// Every value under `prefix`, decoded as `V` to its last byte; returns how many there were.
fn values_as<V: codec::Decode>(prefix: &[u8]) -> Result<u32, String> {
	let mut count = 0;
	let mut key = prefix.to_vec();
	while let Some(next) = sp_io::storage::next_key(&key).filter(|k| k.starts_with(prefix)) {
		key = next;
		let value = sp_io::storage::get(&key).ok_or("a key without a value")?;
		<V as codec::DecodeAll>::decode_all(&mut &value[..]).map_err(|e| {
			format!(
				"the value under 0x{} does not decode as {}: {e}",
				hex(&key),
				std::any::type_name::<V>()
			)
		})?;
		count += 1;
	}
	Ok(count)
}

/// [`values_as`] the value type of `M`, whose prefix is `prefix`.
fn values_of<V: codec::FullCodec, M: frame_support::storage::StoragePrefixedMap<V>>(
	prefix: &[u8],
) -> Result<u32, String> {
	debug_assert_eq!(prefix, M::final_prefix());
	values_as::<V>(prefix)
}

fn has_account(who: &agentchain_runtime::AccountId) -> bool {
	frame_system::Account::<Runtime>::contains_key(who)
}

fn accounts(_: &[u8], _: u32) -> Result<u32, String> {
	let ed = <Runtime as pallet_balances::Config>::ExistentialDeposit::get();
	// Below the existential deposit only a pallet's own account may exist (one per `PalletId`,
	// kept by a provider reference its pallet holds).
	let pallet_accounts = [
		pallet_inference::Pallet::<Runtime>::account_id(),
		pallet_challenges::Pallet::<Runtime>::account_id(),
		pallet_data_rewards::Pallet::<Runtime>::account_id(),
		pallet_collator_selection::Pallet::<Runtime>::account_id(),
	];
	each(
		frame_system::Account::<Runtime>::iter(),
		"an account below the existential deposit that is no pallet's account",
		|(who, info)| {
			info.data.free.saturating_add(info.data.reserved) >= ed || pallet_accounts.contains(who)
		},
	)
}

fn block_hashes(_: &[u8], _: u32) -> Result<u32, String> {
	let count = frame_system::BlockHash::<Runtime>::iter_keys().count() as u32;
	let kept = <Runtime as frame_system::Config>::BlockHashCount::get() + 1;
	(count <= kept)
		.then_some(count)
		.ok_or(format!("{count} block hashes, more than {kept}"))
}

fn none_between_blocks(_: &[u8], count: u32) -> Result<u32, String> {
	(count == 0)
		.then_some(0)
		.ok_or(format!("{count} entries after the block was finalized"))
}

fn event_topics(prefix: &[u8], _: u32) -> Result<u32, String> {
	use codec::Decode;
	// `EventTopics` is private to frame-system: its entries (topic → the block and index of each
	// event with that topic) are decoded here from their raw values.
	let (now, events) = (System::block_number(), System::event_count());
	each(
		frame_support::storage::PrefixIterator::<_, ()>::new(
			prefix.to_vec(),
			prefix.to_vec(),
			|_, mut value| Vec::<(u32, u32)>::decode(&mut value),
		),
		"a topic of an event that is not among the last block's",
		|indexes| indexes.iter().all(|(block, index)| *block == now && *index < events),
	)
}

fn grandpa_sets(_: &[u8], _: u32) -> Result<u32, String> {
	let count = pallet_grandpa::SetIdSession::<Runtime>::iter_keys().count() as u32;
	let kept =
		<<Runtime as pallet_grandpa::Config>::MaxSetIdSessionEntries as Get<u64>>::get().max(1);
	(u64::from(count) <= kept)
		.then_some(count)
		.ok_or(format!("{count} authority sets, more than {kept}"))
}

fn session_keys(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_session::NextKeys::<Runtime>::iter_keys(),
		"the keys of a validator without an account",
		has_account,
	)
}

fn key_owners(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_session::KeyOwner::<Runtime>::iter(),
		"a key whose owner has no session keys",
		|(_, owner)| pallet_session::NextKeys::<Runtime>::contains_key(owner),
	)
}

fn last_authored(_: &[u8], _: u32) -> Result<u32, String> {
	// An author is noted for every block, and a collator that left stays in the session's
	// validator set (current or queued) for up to two sessions, noted again meanwhile. What this
	// does not accept, and collator selection never removes: the entry of an invulnerable that
	// root removed, and of a candidate that left and authored again before leaving the validator
	// set (upstream growth, one entry per former collator; unreachable here: the fuzzer makes no
	// root calls and gives no valid session keys, and a sequence spans at most one rotation).
	let invulnerables = pallet_collator_selection::Invulnerables::<Runtime>::get();
	let candidates = pallet_collator_selection::CandidateList::<Runtime>::get();
	let validators = pallet_session::Validators::<Runtime>::get();
	let queued = pallet_session::QueuedKeys::<Runtime>::get();
	each(
		pallet_collator_selection::LastAuthoredBlock::<Runtime>::iter_keys(),
		"the last block of a collator that is neither invulnerable, a candidate nor a validator",
		|who| {
			invulnerables.contains(who)
				|| candidates.iter().any(|c| c.who == *who)
				|| validators.contains(who)
				|| queued.iter().any(|(v, _)| v == who)
		},
	)
}

fn agents(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_agents::Registry::<Runtime>::iter_keys(),
		"the record of an agent without an account",
		has_account,
	)
}

fn operators(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_agents::Operators::<Runtime>::iter(),
		"an operator key of an agent whose operator it is not",
		|(operator, agent)| {
			pallet_agents::Registry::<Runtime>::get(agent)
				.is_some_and(|info| info.operator.as_ref() == Some(operator))
		},
	)
}

fn candidates(_: &[u8], _: u32) -> Result<u32, String> {
	let now = frame_system::Pallet::<Runtime>::block_number();
	each(
		pallet_agents::Candidates::<Runtime>::iter(),
		"a candidate set that is empty, has a member not registered for its model, or a seat \
		 weighing less than its live active agent's bonded stake",
		|(_, model, set)| {
			!set.is_empty()
				&& set.iter().all(|seat| {
					pallet_agents::Registry::<Runtime>::get(&seat.agent).is_some_and(|info| {
						info.models.contains(model)
							&& (info.status != pallet_agents::AgentStatus::Active
								|| pallet_agents::Pallet::<Runtime>::is_silent(&info, now)
								|| info.stake <= seat.weight)
					})
				})
		},
	)
}

fn tasks(_: &[u8], _: u32) -> Result<u32, String> {
	// A task open across the upgrade that introduced task deposits has none (the migration could
	// not take one); it is bounded by its deadline instead, which is queued until it ends.
	let queued: std::collections::BTreeSet<_> = pallet_inference::Deadlines::<Runtime>::iter_keys()
		.map(|(_, task)| task)
		.collect();
	each(
		pallet_inference::Tasks::<Runtime>::iter(),
		"a task without a storage deposit or a queued deadline",
		|(id, task)| task.deposit > 0 || queued.contains(id),
	)
}

fn prepaid(_: &[u8], _: u32) -> Result<u32, String> {
	use frame_support::traits::fungible::InspectHold;
	each(
		pallet_inference::Prepaid::<Runtime>::iter(),
		"prepaid funds that are zero or more than the requester's escrow hold",
		|(requester, prepaid)| {
			let reason = pallet_inference::HoldReason::TaskEscrow.into();
			*prepaid > 0 && Balances::balance_on_hold(&reason, requester) >= *prepaid
		},
	)
}

fn is_task(id: &agentchain_primitives::inference::TaskId) -> bool {
	pallet_inference::Tasks::<Runtime>::contains_key(id)
}

fn outputs(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_inference::Outputs::<Runtime>::iter_keys(),
		"an output of a task no longer stored",
		|(task, _)| is_task(task),
	)
}

fn assigned_tasks(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_inference::AssignedTasks::<Runtime>::iter_keys(),
		"an assignment to a task no longer stored",
		|(_, task)| is_task(task),
	)
}

fn task_deadlines(_: &[u8], _: u32) -> Result<u32, String> {
	let cursor = pallet_inference::DeadlineCursor::<Runtime>::get();
	each(
		pallet_inference::Deadlines::<Runtime>::iter_keys(),
		"a deadline behind the cursor, or of a task no longer stored",
		|(block, task)| *block >= cursor && is_task(task),
	)
}

fn protocol_flows(_: &[u8], count: u32) -> Result<u32, String> {
	use agentchain_primitives::inference::ProtocolFlow;
	use codec::Decode;
	// No more keys than kinds of flow (each key decodes as one: the walk compares).
	let kinds = (0u8..=u8::MAX).filter(|b| ProtocolFlow::decode(&mut &[*b][..]).is_ok()).count();
	let decoded = pallet_inference::ProtocolFlows::<Runtime>::iter_keys().count() as u32;
	(count as usize <= kinds)
		.then_some(decoded)
		.ok_or(format!("{count} keys for {kinds} kinds of flow"))
}

fn disputes(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_challenges::Disputes::<Runtime>::iter_keys(),
		"a dispute of a task no longer stored",
		is_task,
	)
}

fn juror_duties(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_challenges::JurorDuties::<Runtime>::iter_keys(),
		"a juror's duty in a dispute that is closed",
		|(_, task)| pallet_challenges::Disputes::<Runtime>::contains_key(task),
	)
}

fn dispute_deadlines(_: &[u8], _: u32) -> Result<u32, String> {
	let cursor = pallet_challenges::DeadlineCursor::<Runtime>::get();
	each(
		pallet_challenges::Deadlines::<Runtime>::iter_keys(),
		"a deadline behind the cursor, or of a dispute that is closed",
		|(block, task)| {
			*block >= cursor && pallet_challenges::Disputes::<Runtime>::contains_key(task)
		},
	)
}

fn datasets(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_data_rewards::Datasets::<Runtime>::iter(),
		"a dataset without a storage deposit",
		|(_, dataset)| dataset.deposit > 0,
	)
}

fn is_dataset(id: &agentchain_primitives::api::DatasetId) -> bool {
	pallet_data_rewards::Datasets::<Runtime>::contains_key(id)
}

fn metadata(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_data_rewards::Metadata::<Runtime>::iter_keys(),
		"metadata of a dataset no longer registered",
		is_dataset,
	)
}

fn datasets_by_hash(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_data_rewards::DatasetByHash::<Runtime>::iter(),
		"a content hash of a dataset no longer registered",
		|(_, id)| is_dataset(id),
	)
}

fn models(_: &[u8], _: u32) -> Result<u32, String> {
	each(
		pallet_data_rewards::Models::<Runtime>::iter(),
		"a model record without a storage deposit",
		|(_, record)| record.deposit > 0,
	)
}

fn epochs(_: &[u8], _: u32) -> Result<u32, String> {
	let (oldest, current) = (
		pallet_data_rewards::ExpiryCursor::<Runtime>::get(),
		pallet_data_rewards::CurrentEpoch::<Runtime>::get().index,
	);
	each(
		pallet_data_rewards::Epochs::<Runtime>::iter_keys(),
		"the totals of an epoch outside the expiry cursor and the current epoch",
		|epoch| (oldest..=current).contains(epoch),
	)
}

fn attestations(_: &[u8], _: u32) -> Result<u32, String> {
	let (oldest, current) = (
		pallet_data_rewards::AttestationCursor::<Runtime>::get(),
		pallet_data_rewards::CurrentEpoch::<Runtime>::get().index,
	);
	// Each attestation is work the curator opened, with its collateral locked until it is judged.
	let mut per_curator = BTreeMap::<_, u32>::new();
	let count = each(
		pallet_data_rewards::Attestations::<Runtime>::iter_keys(),
		"an attestation outside the attestation cursor and the current epoch",
		|(epoch, (_, curator))| {
			*per_curator.entry(curator.clone()).or_default() += 1;
			(oldest..=current).contains(epoch)
		},
	)?;
	each(
		per_curator,
		"more attestations of a curator than the work its agent record has open",
		|(curator, attested)| {
			pallet_agents::Registry::<Runtime>::get(curator)
				.is_some_and(|info| info.open_work >= *attested)
		},
	)?;
	Ok(count)
}

fn final_scores(_: &[u8], _: u32) -> Result<u32, String> {
	let oldest = pallet_data_rewards::AttestationCursor::<Runtime>::get();
	each(
		pallet_data_rewards::FinalScores::<Runtime>::iter_keys(),
		"the final score of an epoch behind the attestation cursor",
		|(epoch, _)| *epoch >= oldest,
	)
}
