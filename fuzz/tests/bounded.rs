//! The fuzzer's bounded run, in the test suite: a fixed number of sequences from a fixed seed
//! (so a failure reproduces), and every input in `fuzz/regressions` replayed.

use agentchain_fuzz::{logs, run, run_random};

/// Sequences of the bounded run (`FUZZ_SEQUENCES` overrides).
const SEQUENCES: u64 = 1_000;

#[test]
fn random_call_sequences_break_no_invariant() {
	assert!(logs::installed(), "the runtime's error logs are recorded");
	let sequences = std::env::var("FUZZ_SEQUENCES")
		.ok()
		.and_then(|v| v.parse().ok())
		.unwrap_or(SEQUENCES);
	let started = std::time::Instant::now();
	match run_random(20261201, sequences, 512) {
		Ok(stats) => {
			println!(
				"fuzz summary: {stats}, 0 failures, in {:.1} s",
				started.elapsed().as_secs_f64()
			);
			assert_eq!(stats.sequences, sequences);
			// The sequences reach the protocol: most extrinsics are included, and many succeed.
			assert!(stats.extrinsics > 10 * sequences, "{stats}");
			assert!(stats.succeeded * 10 > stats.extrinsics, "{stats}");
		},
		Err((failure, data)) => panic!(
			"fuzz summary: 1 failure: {failure}\ninput ({} bytes): {}",
			data.len(),
			data.iter().map(|b| format!("{b:02x}")).collect::<String>()
		),
	}
}

/// The same input gives the same run, down to the hash of its last block (signatures are
/// deterministic, and every run starts from its seed's fixed state): a failure replays.
#[test]
fn a_sequence_replays_identically() {
	let mut rng = agentchain_fuzz::input::Rng::new(5);
	let mut distinct = std::collections::BTreeSet::new();
	for _ in 0..5 {
		let data = rng.bytes(400);
		let first = run(&data).expect("the sequence passes");
		let second = run(&data).expect("the sequence passes again");
		assert_eq!(first, second);
		distinct.insert(first.head);
	}
	assert!(distinct.len() > 1, "different inputs give different chains");
}

#[test]
fn every_regression_input_replays_clean() {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
	let mut replayed = 0;
	for entry in std::fs::read_dir(&dir).expect("fuzz/regressions exists") {
		let path = entry.expect("a readable entry").path();
		if path.extension().is_some_and(|e| e == "bin") {
			let data = std::fs::read(&path).expect("a readable input");
			if let Err(failure) = run(&data) {
				panic!("{}: {failure}", path.display());
			}
			replayed += 1;
		}
	}
	println!("replayed {replayed} regression inputs");
}

/// The checks fail when what they check is broken: each test breaks one thing between two
/// extrinsics of a block, as a bug in a pallet would, and the block's checks must name it.
mod the_checks_catch {
	use agentchain_fuzz::{chain::Chain, seed_states, Failure};
	use agentchain_runtime::{Balances, Runtime, System, UNIT};
	use frame_support::{dispatch::DispatchClass, traits::fungible::Mutate, weights::Weight};
	use sp_keyring::Ed25519Keyring::Bob;

	/// Opens a block on the `agents` seed, runs `bug` in it and closes it.
	fn block_with(bug: impl FnOnce()) -> Result<(), Failure> {
		let mut chain = Chain::from_seed(&seed_states()[1]);
		chain.open_block(0).expect("the block opens");
		chain.exec(bug);
		chain.close_block()
	}

	fn fails_with(bug: impl FnOnce(), expected: &str) {
		let failure = block_with(bug).expect_err("the broken block fails its checks");
		assert!(failure.message.contains(expected), "{failure}");
	}

	#[test]
	fn nothing_in_an_unbroken_block() {
		block_with(|| {}).expect("an empty block passes");
	}

	#[test]
	fn money_minted_into_an_account() {
		fails_with(
			|| {
				Balances::mint_into(&agentchain_fuzz::calls::account_of(Bob), UNIT)
					.expect("minted");
			},
			"was minted into",
		);
	}

	#[test]
	fn an_issuance_that_does_not_match_the_accounts() {
		fails_with(
			|| pallet_balances::TotalIssuance::<Runtime>::mutate(|i| *i += 1),
			"the accounts hold",
		);
	}

	#[test]
	fn a_broken_pallet_invariant() {
		fails_with(
			|| pallet_agents::AgentCount::<Runtime>::mutate(|n| *n += 1),
			"try_state failed",
		);
	}

	/// A reservation no work holds (as a pallet that forgot to release one would leave): each
	/// pallet's own checks pass, the cross-pallet sum does not.
	#[test]
	fn a_reservation_with_no_work_behind_it() {
		fails_with(
			|| {
				let (agent, _) =
					pallet_agents::Registry::<Runtime>::iter().next().expect("an agent");
				pallet_agents::Registry::<Runtime>::mutate(&agent, |info| {
					let info = info.as_mut().expect("registered");
					assert!(info.stake > info.collateral, "stake to reserve");
					info.open_work += 1;
					info.collateral += 1;
				});
			},
			"pieces of open work reserving",
		);
	}

	/// Built with try-runtime (the long run), FRAME's own pallets' try_state runs too.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn a_broken_frame_pallet_invariant() {
		fails_with(
			|| {
				let max = <<Runtime as pallet_collator_selection::Config>::MaxCandidates as
					frame_support::traits::Get<u32>>::get();
				pallet_collator_selection::DesiredCandidates::<Runtime>::put(max + 1);
			},
			"Shouldn't demand more candidates than the pallet config allows",
		);
	}

	#[test]
	fn a_defensive_failure() {
		fails_with(
			|| {
				frame_support::defensive!("a broken invariant");
			},
			"the runtime logged errors",
		);
	}

	/// The block in which a session rotates weighs more than its maximum (the session pallet
	/// claims it whole, the other hooks add theirs): accepted while the rest of the block, an
	/// operational extrinsic within its reserved share included, weighs no more than a block.
	#[test]
	fn a_session_rotation_block_heavier_than_a_block_besides_the_rotation() {
		let rotation_block = |class: DispatchClass, extra: Weight| {
			let mut chain = Chain::from_seed(&seed_states()[0]);
			chain.open_block(0).expect("the block opens");
			while chain.number() < 200 {
				chain.close_block().expect("an empty block passes");
				chain.open_block(0).expect("the block opens");
			}
			chain.exec(|| {
				assert!(System::block_weight()
					.total()
					.any_gt(<Runtime as frame_system::Config>::BlockWeights::get().max_block));
				System::register_extra_weight_unchecked(extra, class)
			});
			chain.close_block()
		};
		let max = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
		rotation_block(DispatchClass::Mandatory, Weight::zero())
			.expect("a rotation block with its hooks alone passes");
		rotation_block(DispatchClass::Operational, max / 10)
			.expect("a rotation block with an operational tenth of a block passes");
		let failure = rotation_block(DispatchClass::Mandatory, max)
			.expect_err("a rotation block whose hooks weigh another block fails");
		assert!(failure.message.contains("besides the session rotation's claim"), "{failure}");
	}

	#[test]
	fn an_overweight_block() {
		fails_with(
			|| {
				let max = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
				System::register_extra_weight_unchecked(
					max.saturating_add(Weight::from_parts(1, 0)),
					DispatchClass::Mandatory,
				)
			},
			"over its maximum",
		);
	}
}

/// The storage walk fails on storage that nothing bounds or backs: each test leaves one such
/// entry in a seed's state, as a pallet that forgot to remove it would, and the walk must name it.
mod the_storage_walk_catches {
	use agentchain_fuzz::{chain::Chain, seed_states};
	use agentchain_runtime::Runtime;

	/// The `dispute` seed (tasks, outputs, deadlines and a dispute in flight) with `bug` applied
	/// between blocks, walked.
	fn fails_with(bug: impl FnOnce(), expected: &str) {
		let mut chain = Chain::from_seed(&seed_states()[3]);
		chain.check_storage().expect("the seed's storage is bounded and backed");
		chain.exec(bug);
		let failure = chain.check_storage().expect_err("the walk finds the unbacked entry");
		assert!(failure.message.contains(expected), "{failure}");
	}

	/// A task id that the seed has.
	fn some_task() -> u64 {
		pallet_inference::Tasks::<Runtime>::iter_keys()
			.next()
			.expect("the seed has a task")
	}

	#[test]
	fn a_key_of_no_storage_item() {
		fails_with(
			|| sp_io::storage::set(&[0x42; 40], b"left by nobody"),
			"belongs to no storage item",
		);
	}

	#[test]
	fn a_map_that_declares_no_backing() {
		fails_with(
			|| {
				pallet_session::ExternallySetKeys::<Runtime>::insert(
					agentchain_fuzz::calls::account_of(sp_keyring::Ed25519Keyring::Bob),
					(),
				)
			},
			"Session.ExternallySetKeys holds 1 entries, and neither a bound nor what backs",
		);
	}

	#[test]
	fn an_output_left_by_a_pruned_task() {
		fails_with(
			|| {
				let task = some_task();
				let (_, output) = pallet_inference::Outputs::<Runtime>::iter_prefix(task)
					.next()
					.expect("the seed's task has an output");
				pallet_inference::Outputs::<Runtime>::insert(
					task + 1_000,
					sp_core::H256::zero(),
					output,
				);
			},
			"Inference.Outputs (backed by a stored task): an output of a task no longer stored",
		);
	}

	#[test]
	fn a_deadline_behind_its_cursor() {
		fails_with(
			|| {
				let task = some_task();
				let cursor = pallet_inference::DeadlineCursor::<Runtime>::get();
				assert!(cursor > 0, "the seed's cursor has moved");
				pallet_inference::Deadlines::<Runtime>::insert(cursor - 1, task, ());
			},
			"a deadline behind the cursor",
		);
	}

	#[test]
	fn a_juror_duty_of_a_closed_dispute() {
		fails_with(
			|| {
				let (juror, _) = pallet_challenges::JurorDuties::<Runtime>::iter_keys()
					.next()
					.expect("the seed's dispute has jurors");
				pallet_challenges::JurorDuties::<Runtime>::insert(juror, 9_999, ());
			},
			"a juror's duty in a dispute that is closed",
		);
	}

	#[test]
	fn an_account_below_the_existential_deposit() {
		fails_with(
			|| {
				let dust = agentchain_runtime::EXISTENTIAL_DEPOSIT - 1;
				frame_system::Account::<Runtime>::insert(
					agentchain_fuzz::calls::account_of(sp_keyring::Ed25519Keyring::Two),
					frame_system::AccountInfo {
						providers: 1,
						data: pallet_balances::AccountData { free: dust, ..Default::default() },
						..Default::default()
					},
				)
			},
			"an account below the existential deposit",
		);
	}

	#[test]
	fn an_entry_that_does_not_decode() {
		fails_with(
			|| {
				// A valid task under a key whose task id is cut short.
				let task = some_task();
				let value =
					sp_io::storage::get(&pallet_inference::Tasks::<Runtime>::hashed_key_for(task))
						.expect("the task is stored");
				let mut key = pallet_inference::Tasks::<Runtime>::hashed_key_for(9_999).to_vec();
				key.truncate(key.len() - 3);
				sp_io::storage::set(&key, &value);
			},
			"Inference.Tasks holds 4 keys, of which 3 decode as its entries",
		);
	}

	#[test]
	fn a_key_under_a_value_that_is_not_its_own() {
		fails_with(
			|| {
				let mut key = pallet_inference::NextTaskId::<Runtime>::hashed_key().to_vec();
				key.extend_from_slice(b"more");
				sp_io::storage::set(&key, &[0]);
			},
			"is under the value Inference.NextTaskId",
		);
	}

	#[test]
	fn a_candidate_that_is_not_registered() {
		fails_with(
			|| {
				let (role, model, mut set) = pallet_agents::Candidates::<Runtime>::iter()
					.next()
					.expect("the seed has candidate sets");
				set.truncate(1);
				set.try_push(pallet_agents::Candidate {
					agent: agentchain_fuzz::calls::account_of(sp_keyring::Ed25519Keyring::Two),
					weight: u128::MAX,
				})
				.expect("a seat is free");
				pallet_agents::Candidates::<Runtime>::insert(role, model, set);
			},
			"a candidate set that is empty, has a member not registered for its model, or a seat",
		);
	}

	#[test]
	fn a_seat_weighing_less_than_its_live_agents_stake() {
		fails_with(
			|| {
				let (role, model, mut set) = pallet_agents::Candidates::<Runtime>::iter()
					.next()
					.expect("the seed has candidate sets");
				set[0].weight = 0;
				pallet_agents::Candidates::<Runtime>::insert(role, model, set);
			},
			"a seat weighing less than its live active agent's bonded stake",
		);
	}

	#[test]
	fn an_operator_key_its_agent_did_not_name() {
		fails_with(
			|| {
				let (_, agent) = pallet_agents::Operators::<Runtime>::iter()
					.next()
					.expect("the seed has an operator");
				pallet_agents::Operators::<Runtime>::insert(
					agentchain_fuzz::calls::account_of(sp_keyring::Ed25519Keyring::Two),
					agent,
				);
			},
			"an operator key of an agent whose operator it is not",
		);
	}

	#[test]
	fn a_hold_of_an_account_that_is_gone() {
		fails_with(
			|| {
				let (who, holds) =
					pallet_balances::Holds::<Runtime>::iter().next().expect("the seed holds stake");
				frame_system::Account::<Runtime>::remove(&who);
				pallet_balances::Holds::<Runtime>::insert(&who, holds);
			},
			"an entry of an account that does not exist",
		);
	}

	#[test]
	fn a_value_that_does_not_decode_under_a_map_whose_check_reads_keys_only() {
		fails_with(
			|| {
				let (block, task) = pallet_inference::Deadlines::<Runtime>::iter_keys()
					.next()
					.expect("the seed has deadlines");
				let key = pallet_inference::Deadlines::<Runtime>::hashed_key_for(block, task);
				sp_io::storage::set(&key, b"not a unit");
			},
			"Inference.Deadlines: the value under 0x",
		);
	}

	#[test]
	fn a_value_with_bytes_after_it() {
		fails_with(
			|| {
				let task = some_task();
				let key = pallet_inference::Tasks::<Runtime>::hashed_key_for(task);
				let mut value = sp_io::storage::get(&key).expect("the task is stored").to_vec();
				value.push(0);
				sp_io::storage::set(&key, &value);
			},
			"Inference.Tasks: the value under 0x",
		);
	}

	#[test]
	fn a_dispute_of_a_pruned_task() {
		fails_with(
			|| {
				let (task, dispute) = pallet_challenges::Disputes::<Runtime>::iter()
					.next()
					.expect("the seed has a dispute");
				pallet_challenges::Disputes::<Runtime>::insert(task + 1_000, dispute);
			},
			"a dispute of a task no longer stored",
		);
	}

	#[test]
	fn a_session_key_whose_owner_has_no_keys() {
		fails_with(
			|| {
				pallet_session::KeyOwner::<Runtime>::insert(
					(sp_core::crypto::KeyTypeId(*b"aura"), vec![7u8; 32]),
					agentchain_fuzz::calls::account_of(sp_keyring::Ed25519Keyring::Two),
				)
			},
			"a key whose owner has no session keys",
		);
	}

	#[test]
	fn the_totals_of_an_epoch_not_yet_begun() {
		fails_with(
			|| {
				let current = pallet_data_rewards::CurrentEpoch::<Runtime>::get().index;
				pallet_data_rewards::Epochs::<Runtime>::insert(current + 1, {
					pallet_data_rewards::EpochInfo::default()
				});
			},
			"the totals of an epoch outside the expiry cursor and the current epoch",
		);
	}

	#[test]
	fn the_final_score_of_a_judged_epoch() {
		fails_with(
			|| {
				// Every epoch before the cursor is judged: the current one judged (its
				// attestations gone, the cursor moved past it), its score left behind.
				let current = pallet_data_rewards::CurrentEpoch::<Runtime>::get().index;
				let _ = pallet_data_rewards::Attestations::<Runtime>::clear(u32::MAX, None);
				pallet_data_rewards::AttestationCursor::<Runtime>::put(current + 1);
				pallet_data_rewards::FinalScores::<Runtime>::insert(current, 0, 50);
			},
			"the final score of an epoch behind the attestation cursor",
		);
	}

	#[test]
	fn an_attestation_beyond_its_curators_open_work() {
		fails_with(
			|| {
				let current = pallet_data_rewards::CurrentEpoch::<Runtime>::get().index;
				let curator = pallet_agents::Registry::<Runtime>::iter()
					.find(|(_, info)| info.open_work == 0)
					.map(|(agent, _)| agent)
					.expect("the seed has an agent without open work");
				pallet_data_rewards::Attestations::<Runtime>::insert(
					current,
					(0, curator),
					pallet_data_rewards::Attestation { score: 50, collateral: 0 },
				);
			},
			"more attestations of a curator than the work its agent record has open",
		);
	}

	#[test]
	fn a_topic_of_an_event_of_another_block() {
		fails_with(
			|| {
				// `EventTopics` is private to frame-system: written raw, as it stores it.
				let mut key = sp_io::hashing::twox_128(b"System").to_vec();
				key.extend_from_slice(&sp_io::hashing::twox_128(b"EventTopics"));
				let topic = sp_core::H256::repeat_byte(9);
				key.extend_from_slice(&sp_io::hashing::blake2_128(topic.as_bytes()));
				key.extend_from_slice(topic.as_bytes());
				let next = frame_system::Pallet::<Runtime>::block_number() + 1;
				sp_io::storage::set(&key, &codec::Encode::encode(&vec![(next, 0u32)]));
			},
			"a topic of an event that is not among the last block's",
		);
	}
}
