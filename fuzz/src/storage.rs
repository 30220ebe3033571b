//! No storage grows without a bound or something that pays for it.
//!
//! Every key in the state is walked and attributed to the storage item it belongs to, by the
//! 32-byte prefix (`twox128(pallet) ++ twox128(item)`) that FRAME gives each item and reports in
//! [`StorageInfoTrait`]: the runtime's own list of its items, so an item added to any pallet is
//! covered without a change here. Then:
//!
//! - a key that belongs to no item (nor is a pallet's storage version or a well-known `:` key)
//!   fails: something wrote where nothing reads;
//! - an item with a declared bound (`max_values`: every value, and bounded maps) holds at most that
//!   many entries;
//! - every other item (a map) that holds entries must be listed in [`BACKINGS`] with what backs its
//!   entries, and that is checked entry by entry: an account that holds at least the existential
//!   deposit, a record that holds a storage deposit, a parent entry that is itself backed, a window
//!   of blocks or epochs that a cursor moves on. An entry whose backing is gone (the task pruned
//!   but its output left, a deadline behind its cursor that no hook will reach again, a record of
//!   a reaped account) is storage that grows with use and never shrinks.
//!
//! An unlisted map with entries fails as well: whoever adds a map says what bounds it.

use agentchain_runtime::{AllPalletsWithSystem, Runtime, System};
use frame_support::traits::{Get, StorageInfoTrait};
use std::collections::BTreeMap;

/// Checks a map's entries, given how many keys it has.
type Check = fn(u32) -> Result<(), String>;

/// The check that every key of an account-keyed map is an account that exists.
macro_rules! keyed_by_accounts {
	($map:ty) => {
		|_| each(<$map>::iter_keys(), "an entry of an account that does not exist", has_account)
	};
}

/// The maps (items without a declared bound) that may hold entries, each with what backs them
/// and the check that every entry is so backed.
pub const BACKINGS: &[(&str, &str, &str, Check)] = &[
	("System", "Account", "the existential deposit (a pallet's own account excepted)", accounts),
	("System", "BlockHash", "the last BlockHashCount blocks", block_hashes),
	(
		"System",
		"ExtrinsicData",
		"the extrinsics of the open block (none once it is finalized)",
		none_between_blocks,
	),
	("System", "EventTopics", "the events of the last block", event_topics),
	("Balances", "Holds", "an account", keyed_by_accounts!(pallet_balances::Holds<Runtime>)),
	("Balances", "Freezes", "an account", keyed_by_accounts!(pallet_balances::Freezes<Runtime>)),
	("Balances", "Locks", "an account", keyed_by_accounts!(pallet_balances::Locks<Runtime>)),
	("Balances", "Reserves", "an account", keyed_by_accounts!(pallet_balances::Reserves<Runtime>)),
	("Grandpa", "SetIdSession", "the last MaxSetIdSessionEntries authority sets", grandpa_sets),
	(
		"Session",
		"NextKeys",
		"a validator's account (a consumer reference and the key deposit)",
		session_keys,
	),
	("Session", "KeyOwner", "the session keys of a validator", key_owners),
	(
		"CollatorSelection",
		"LastAuthoredBlock",
		"an invulnerable or a bonded candidate",
		last_authored,
	),
	("Agents", "Agents", "the agent's stake and storage deposit (an account)", agents),
	("Agents", "Operators", "the agent that named the operator", operators),
	("Agents", "Candidates", "registered agents that serve the model", candidates),
	("Inference", "Tasks", "the requester's storage deposit", tasks),
	("Inference", "Outputs", "a stored task", outputs),
	("Inference", "AssignedTasks", "a stored task", assigned_tasks),
	("Inference", "Deadlines", "a stored task, at or after the deadline cursor", task_deadlines),
	("Inference", "ProtocolFlows", "one per kind of flow (a closed enum)", protocol_flows),
	("Challenges", "Disputes", "the challenger's bond and a stored task", disputes),
	("Challenges", "JurorDuties", "an open dispute", juror_duties),
	(
		"Challenges",
		"Deadlines",
		"an open dispute, at or after the deadline cursor",
		dispute_deadlines,
	),
	("DataRewards", "Datasets", "the owner's storage deposit", datasets),
	("DataRewards", "Metadata", "a registered dataset", metadata),
	("DataRewards", "DatasetByHash", "a registered dataset", datasets_by_hash),
	("DataRewards", "Models", "the owner's storage deposit", models),
	("DataRewards", "Epochs", "the epochs from the expiry cursor to the current one", epochs),
	(
		"DataRewards",
		"Attestations",
		"the curator's reserved stake, in an epoch not yet judged",
		attestations,
	),
	("DataRewards", "FinalScores", "an epoch not yet judged", final_scores),
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
		let Some((_, _, backing, check)) =
			BACKINGS.iter().find(|(p, n, _, _)| *p == pallet && *n == name)
		else {
			return Err(format!(
				"{pallet}.{name} holds {count} entries, and neither a bound nor what backs its \
				 entries is declared"
			));
		};
		check(count).map_err(|e| format!("{pallet}.{name} (backed by {backing}): {e}"))?;
		checks += 1;
	}
	Ok(checks)
}

/// Keys of no storage item that FRAME writes: pallets' storage versions and well-known keys.
fn is_known_unlisted(key: &[u8]) -> bool {
	key.starts_with(b":")
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

/// Fails with `what` and the first item of `items` for which `backed` is false.
fn each<K: std::fmt::Debug>(
	items: impl IntoIterator<Item = K>,
	what: &str,
	backed: impl Fn(&K) -> bool,
) -> Result<(), String> {
	match items.into_iter().find(|item| !backed(item)) {
		Some(item) => Err(format!("{what}: {item:?}")),
		None => Ok(()),
	}
}

fn has_account(who: &agentchain_runtime::AccountId) -> bool {
	frame_system::Account::<Runtime>::contains_key(who)
}

fn accounts(_: u32) -> Result<(), String> {
	let ed = <Runtime as pallet_balances::Config>::ExistentialDeposit::get();
	// Below the existential deposit only a pallet's own account (one per `PalletId`, kept by a
	// provider reference its pallet holds) may exist.
	each(
		frame_system::Account::<Runtime>::iter(),
		"an account below the existential deposit that is no pallet's account",
		|(who, info)| {
			info.data.free.saturating_add(info.data.reserved) >= ed
				|| AsRef::<[u8]>::as_ref(who).starts_with(b"modl")
		},
	)
}

fn block_hashes(count: u32) -> Result<(), String> {
	let kept = <Runtime as frame_system::Config>::BlockHashCount::get() + 1;
	(count <= kept)
		.then_some(())
		.ok_or(format!("{count} block hashes, more than {kept}"))
}

fn none_between_blocks(count: u32) -> Result<(), String> {
	(count == 0)
		.then_some(())
		.ok_or(format!("{count} entries after the block was finalized"))
}

fn event_topics(topics: u32) -> Result<(), String> {
	let events = System::event_count();
	(topics <= events)
		.then_some(())
		.ok_or(format!("{topics} topics for {events} events"))
}

fn grandpa_sets(count: u32) -> Result<(), String> {
	let kept =
		<<Runtime as pallet_grandpa::Config>::MaxSetIdSessionEntries as Get<u64>>::get().max(1);
	let count = u64::from(count);
	(count <= kept)
		.then_some(())
		.ok_or(format!("{count} authority sets, more than {kept}"))
}

fn session_keys(_: u32) -> Result<(), String> {
	each(
		pallet_session::NextKeys::<Runtime>::iter_keys(),
		"the keys of a validator without an account",
		has_account,
	)
}

fn key_owners(_: u32) -> Result<(), String> {
	each(
		pallet_session::KeyOwner::<Runtime>::iter(),
		"a key whose owner has no session keys",
		|(_, owner)| pallet_session::NextKeys::<Runtime>::contains_key(owner),
	)
}

fn last_authored(_: u32) -> Result<(), String> {
	let invulnerables = pallet_collator_selection::Invulnerables::<Runtime>::get();
	let candidates = pallet_collator_selection::CandidateList::<Runtime>::get();
	each(
		pallet_collator_selection::LastAuthoredBlock::<Runtime>::iter_keys(),
		"the last block of a collator that is neither invulnerable nor a candidate",
		|who| invulnerables.contains(who) || candidates.iter().any(|c| c.who == *who),
	)
}

fn agents(_: u32) -> Result<(), String> {
	each(
		pallet_agents::Registry::<Runtime>::iter_keys(),
		"the record of an agent without an account",
		has_account,
	)
}

fn operators(_: u32) -> Result<(), String> {
	each(
		pallet_agents::Operators::<Runtime>::iter(),
		"an operator key of an agent that did not name it",
		|(operator, agent)| {
			pallet_agents::Registry::<Runtime>::get(agent).is_some_and(|info| {
				info.operator.as_ref() == Some(operator)
					|| info.proposed_operator.as_ref() == Some(operator)
			})
		},
	)
}

fn candidates(_: u32) -> Result<(), String> {
	each(
		pallet_agents::Candidates::<Runtime>::iter(),
		"a candidate set that is empty or has a member not registered for its model",
		|(_, model, set)| {
			!set.is_empty()
				&& set.iter().all(|member| {
					pallet_agents::Registry::<Runtime>::get(member)
						.is_some_and(|info| info.models.contains(model))
				})
		},
	)
}

fn tasks(_: u32) -> Result<(), String> {
	each(
		pallet_inference::Tasks::<Runtime>::iter(),
		"a task without a storage deposit",
		|(_, task)| task.deposit > 0,
	)
}

fn is_task(id: &agentchain_primitives::inference::TaskId) -> bool {
	pallet_inference::Tasks::<Runtime>::contains_key(id)
}

fn outputs(_: u32) -> Result<(), String> {
	each(
		pallet_inference::Outputs::<Runtime>::iter_keys(),
		"an output of a task no longer stored",
		|(task, _)| is_task(task),
	)
}

fn assigned_tasks(_: u32) -> Result<(), String> {
	each(
		pallet_inference::AssignedTasks::<Runtime>::iter_keys(),
		"an assignment to a task no longer stored",
		|(_, task)| is_task(task),
	)
}

fn task_deadlines(_: u32) -> Result<(), String> {
	let cursor = pallet_inference::DeadlineCursor::<Runtime>::get();
	each(
		pallet_inference::Deadlines::<Runtime>::iter_keys(),
		"a deadline behind the cursor, or of a task no longer stored",
		|(block, task)| *block >= cursor && is_task(task),
	)
}

fn protocol_flows(count: u32) -> Result<(), String> {
	use agentchain_primitives::inference::ProtocolFlow;
	use codec::Decode;
	// Every key decodes as a kind of flow, and there are no more keys than kinds.
	let decoded = pallet_inference::ProtocolFlows::<Runtime>::iter_keys().count() as u32;
	let kinds = (0u8..=u8::MAX).filter(|b| ProtocolFlow::decode(&mut &[*b][..]).is_ok()).count();
	if decoded != count || count as usize > kinds {
		return Err(format!("{count} keys, {decoded} of them flows, for {kinds} kinds of flow"));
	}
	Ok(())
}

fn disputes(_: u32) -> Result<(), String> {
	each(
		pallet_challenges::Disputes::<Runtime>::iter_keys(),
		"a dispute of a task no longer stored",
		is_task,
	)
}

fn juror_duties(_: u32) -> Result<(), String> {
	each(
		pallet_challenges::JurorDuties::<Runtime>::iter_keys(),
		"a juror's duty in a dispute that is closed",
		|(_, task)| pallet_challenges::Disputes::<Runtime>::contains_key(task),
	)
}

fn dispute_deadlines(_: u32) -> Result<(), String> {
	let cursor = pallet_challenges::DeadlineCursor::<Runtime>::get();
	each(
		pallet_challenges::Deadlines::<Runtime>::iter_keys(),
		"a deadline behind the cursor, or of a dispute that is closed",
		|(block, task)| {
			*block >= cursor && pallet_challenges::Disputes::<Runtime>::contains_key(task)
		},
	)
}

fn datasets(_: u32) -> Result<(), String> {
	each(
		pallet_data_rewards::Datasets::<Runtime>::iter(),
		"a dataset without a storage deposit",
		|(_, dataset)| dataset.deposit > 0,
	)
}

fn is_dataset(id: &agentchain_primitives::api::DatasetId) -> bool {
	pallet_data_rewards::Datasets::<Runtime>::contains_key(id)
}

fn metadata(_: u32) -> Result<(), String> {
	each(
		pallet_data_rewards::Metadata::<Runtime>::iter_keys(),
		"metadata of a dataset no longer registered",
		is_dataset,
	)
}

fn datasets_by_hash(_: u32) -> Result<(), String> {
	each(
		pallet_data_rewards::DatasetByHash::<Runtime>::iter(),
		"a content hash of a dataset no longer registered",
		|(_, id)| is_dataset(id),
	)
}

fn models(_: u32) -> Result<(), String> {
	each(
		pallet_data_rewards::Models::<Runtime>::iter(),
		"a model record without a storage deposit",
		|(_, record)| record.deposit > 0,
	)
}

fn epochs(_: u32) -> Result<(), String> {
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

fn attestations(_: u32) -> Result<(), String> {
	let (oldest, current) = (
		pallet_data_rewards::AttestationCursor::<Runtime>::get(),
		pallet_data_rewards::CurrentEpoch::<Runtime>::get().index,
	);
	each(
		pallet_data_rewards::Attestations::<Runtime>::iter_keys(),
		"an attestation outside the attestation cursor and the current epoch, or of a curator \
		 without an account",
		|(epoch, (_, curator))| (oldest..=current).contains(epoch) && has_account(curator),
	)
}

fn final_scores(_: u32) -> Result<(), String> {
	let oldest = pallet_data_rewards::AttestationCursor::<Runtime>::get();
	each(
		pallet_data_rewards::FinalScores::<Runtime>::iter_keys(),
		"the final score of an epoch behind the attestation cursor",
		|(epoch, _)| *epoch >= oldest,
	)
}
