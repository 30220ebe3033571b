//! A world of honest and adversarial actors played against the real AgentChain runtime.
//!
//! The runtime is `agentchain-runtime` itself (its configuration, its constants, its pallets),
//! run natively in a test externality. Blocks are advanced by hand: each block gets an
//! unpredictable hash (from a secret no actor sees, as a real block hash is unknown before the
//! block is sealed), then the AgentChain pallets' `on_initialize` hooks run, then every actor
//! does what its behaviour says, as signed calls that pay the transaction fee the runtime would
//! charge. What the agent nodes' off-chain workers do (execute, commit, reveal, vote) is done
//! here by the actors, honestly or not.

use agentchain_primitives::{
	agents::Role,
	inference::{TaskId, VerificationMode, INPUT_UNAVAILABLE},
	ModelId,
};
use agentchain_runtime::{
	AccountId, Balance, Balances, BlockNumber, Challenges, DataRewards, Inference, Runtime,
	RuntimeCall, RuntimeGenesisConfig, RuntimeOrigin, System, UNIT,
};
use codec::Encode;
use frame_support::{
	dispatch::GetDispatchInfo,
	traits::{
		fungible::{Inspect, Mutate},
		tokens::Preservation,
		Hooks,
	},
};
use pallet_challenges::{vote_commitment, DisputePhase, Disputes, REJECT};
use pallet_inference::{commitment_of, TaskInput, TaskParams, TaskStatus, Tasks};
use sp_core::H256;
use sp_runtime::{traits::Dispatchable, BuildStorage, DispatchError};
use std::collections::{BTreeMap, BTreeSet};

/// An account of the world, named.
pub fn account(name: &str) -> AccountId {
	AccountId::from(sp_io::hashing::blake2_256(name.as_bytes()))
}

/// A model id from a name, as agent nodes name them.
pub fn model(name: &str) -> ModelId {
	ModelId::from(sp_io::hashing::blake2_256(name.as_bytes()))
}

/// blake2-256.
pub fn hash(bytes: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(bytes))
}

/// What an honest model answers to `input`.
pub fn truth(input: &[u8]) -> Vec<u8> {
	let digest = sp_io::hashing::blake2_256(input);
	format!("answer {:02x}{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2], digest[3])
		.into_bytes()
}

/// How an agent behaves when it has work.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Behaviour {
	/// Runs the model, commits, reveals, votes the truth, appeals wrong verdicts.
	Honest,
	/// Executes nothing: commits and reveals a fixed, cached output.
	Lazy,
	/// Executes nothing: commits and reveals an empty output.
	Empty,
	/// Commits a fixed output, and never reveals it.
	Withhold,
	/// As an executor: reveals this output. As a juror: votes it.
	Says(Vec<u8>),
	/// As a juror: votes the disputed result whatever it is ("accept"), without re-executing.
	RubberStamp,
	/// As a juror: tries to copy the majority. Votes are committed before anyone reveals, so
	/// it commits a placeholder and has nothing it can reveal.
	CopyCat,
	/// Reveals its (honest) output by URI only, keeping it off chain.
	UriOnly,
	/// Does nothing (its node is down, or blacked out).
	Offline,
}

/// The world: the runtime's state, the actors and how they behave.
pub struct World {
	ext: sp_io::TestExternalities,
	secret: [u8; 32],
	/// How each agent behaves (agents not listed are honest).
	pub behaviour: BTreeMap<AccountId, Behaviour>,
	/// Inputs the requester withholds: referenced inputs nobody can fetch.
	pub withheld: BTreeSet<H256>,
	/// Accounts of the honest parties (executors, jurors, curators, watcher).
	pub honest: BTreeSet<AccountId>,
	/// Honest requesters (their fees buy results; a wrong result paid is their loss).
	pub requesters: BTreeSet<AccountId>,
	/// Accounts of the attacker.
	pub attacker: BTreeSet<AccountId>,
	/// The honest watcher: re-executes this share (percent) of results and challenges the
	/// wrong ones.
	pub watcher: Option<(AccountId, u8)>,
	/// Whether honest parties appeal verdicts they know are wrong.
	pub appeals: bool,
	/// The inputs of the tasks (their bytes), for honest execution.
	inputs: BTreeMap<TaskId, Vec<u8>>,
	watched: BTreeSet<TaskId>,
	/// Transaction fees each account paid.
	pub fees: BTreeMap<AccountId, Balance>,
	/// What each requester was paid in compensation for results found wrong.
	compensated: BTreeMap<AccountId, Balance>,
	start: BTreeMap<AccountId, Balance>,
	protocol_start: Balance,
	counter: u64,
	/// Calls refused, by signer, with their error.
	pub refusals: Vec<(AccountId, &'static str)>,
	/// Every registered agent, kept live by heartbeats unless offline.
	agents: BTreeSet<AccountId>,
}

/// Where the transaction fees go (the block author).
pub fn fee_sink() -> AccountId {
	account("block-author")
}

/// What the world reports of a strategy.
#[derive(Clone, Debug)]
pub struct Outcome {
	/// The strategy's name.
	pub name: &'static str,
	/// The attacker's accounts, all together: end minus start (free and held), in units.
	pub attacker: i128,
	/// What honest parties lost (slashes, penalties, forfeits, unpaid work; never the
	/// transaction fees they chose to pay), and what honest requesters paid for wrong results.
	pub honest_loss: i128,
	/// The protocol account: end minus start.
	pub protocol: i128,
	/// What happened, in a few words.
	pub note: String,
}

impl World {
	/// A fresh chain with `accounts` endowed with `balance` each, and the fee sink.
	pub fn new(seed: &str, accounts: &[(AccountId, Balance)]) -> Self {
		let mut balances: Vec<(AccountId, Balance)> = accounts.to_vec();
		balances.push((fee_sink(), UNIT));
		let storage = RuntimeGenesisConfig {
			balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
			..Default::default()
		}
		.build_storage()
		.expect("the genesis builds");
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		Self {
			ext,
			secret: sp_io::hashing::blake2_256(seed.as_bytes()),
			behaviour: BTreeMap::new(),
			withheld: BTreeSet::new(),
			honest: BTreeSet::new(),
			requesters: BTreeSet::new(),
			attacker: BTreeSet::new(),
			watcher: None,
			appeals: true,
			inputs: BTreeMap::new(),
			watched: BTreeSet::new(),
			fees: BTreeMap::new(),
			compensated: BTreeMap::new(),
			start: BTreeMap::new(),
			protocol_start: 0,
			counter: 0,
			refusals: Vec::new(),
			agents: BTreeSet::new(),
		}
	}

	/// Runs `f` in the world's state.
	pub fn exec<R>(&mut self, f: impl FnOnce() -> R) -> R {
		self.ext.execute_with(f)
	}

	/// Takes the balances the outcome is measured from.
	pub fn mark(&mut self) {
		self.compensated.clear();
		let accounts: Vec<AccountId> = self
			.honest
			.iter()
			.chain(self.attacker.iter())
			.chain(self.requesters.iter())
			.cloned()
			.collect();
		let (start, protocol) = self.exec(|| {
			let start = accounts.iter().map(|a| (a.clone(), Balances::total_balance(a))).collect();
			(start, Balances::total_balance(&Inference::account_id()))
		});
		self.start = start;
		self.protocol_start = protocol;
		self.fees.clear();
	}

	/// The current block.
	pub fn block(&mut self) -> BlockNumber {
		self.exec(System::block_number)
	}

	/// Signs and dispatches `call` from `who`, paying the fee the runtime charges for it first.
	pub fn call(&mut self, who: &AccountId, call: RuntimeCall) -> Result<(), DispatchError> {
		let who = who.clone();
		// A call that pretends to be a protocol duty is refused by the transaction pool before
		// it is included: no fee, no dispatch.
		let pretence = self.ext.execute_with(|| {
			matches!(agentchain_runtime::duties::duty_of(&who, &call), Some(Err(_)))
		});
		if pretence {
			self.refusals.push((who, "refused by the pool: not a duty of its signer"));
			return Err(DispatchError::Other("not a duty of its signer"));
		}
		let result = self.ext.execute_with(|| {
			// The signed extrinsic's length: the call, plus the address, signature and extensions.
			let len = call.encoded_size() as u32 + 110;
			let fee = pallet_transaction_payment::Pallet::<Runtime>::compute_fee(
				len,
				&call.get_dispatch_info(),
				0,
			);
			<Balances as Mutate<AccountId>>::transfer(
				&who,
				&fee_sink(),
				fee,
				Preservation::Preserve,
			)
			.map_err(|_| DispatchError::Other("cannot pay the transaction fee"))?;
			let result = call
				.dispatch(RuntimeOrigin::signed(who.clone()))
				.map(|_| ())
				.map_err(|e| e.error);
			Ok::<_, DispatchError>((fee, result))
		});
		match result {
			Ok((fee, result)) => {
				*self.fees.entry(who.clone()).or_default() += fee;
				if let Err(error) = result {
					let name = match error {
						DispatchError::Module(module) => module.message.unwrap_or("module error"),
						DispatchError::Other(message) => message,
						_ => "dispatch error",
					};
					self.refusals.push((who, name));
				}
				result
			},
			Err(error) => Err(error),
		}
	}

	/// Registers an agent owned by `who`.
	pub fn register(
		&mut self,
		who: &AccountId,
		models: Vec<ModelId>,
		roles: Vec<Role>,
		stake: Balance,
	) -> Result<(), DispatchError> {
		self.agents.insert(who.clone());
		self.call(
			who,
			RuntimeCall::Agents(pallet_agents::Call::register {
				name: b"agent".to_vec(),
				endpoint: b"http://agent".to_vec(),
				version: b"1".to_vec(),
				models,
				roles,
				stake,
			}),
		)
	}

	/// Submits an exact-match task of `model` with inline `input`; returns its id.
	pub fn submit(
		&mut self,
		requester: &AccountId,
		model: ModelId,
		input: &[u8],
		fee: Balance,
		redundancy: u32,
	) -> Result<TaskId, DispatchError> {
		self.submit_with(
			requester,
			model,
			TaskInput::Inline(input.to_vec()),
			input,
			fee,
			redundancy,
		)
	}

	/// Submits a task of `model` with `input` (whose bytes are `bytes`); returns its id.
	pub fn submit_with(
		&mut self,
		requester: &AccountId,
		model: ModelId,
		input: TaskInput<Vec<u8>>,
		bytes: &[u8],
		fee: Balance,
		redundancy: u32,
	) -> Result<TaskId, DispatchError> {
		let id = self.exec(pallet_inference::NextTaskId::<Runtime>::get);
		self.call(
			requester,
			RuntimeCall::Inference(pallet_inference::Call::submit_task {
				model,
				input,
				params: TaskParams {
					max_tokens: 16,
					temperature_milli: 0,
					seed: 1,
					mode: VerificationMode::ExactMatch,
				},
				fee,
				redundancy,
				commit_period: 3,
			}),
		)?;
		self.inputs.insert(id, bytes.to_vec());
		Ok(id)
	}

	/// A pseudo-random number below `bound`, from the world's secret (deterministic per run).
	pub fn random(&mut self, bound: u64) -> u64 {
		self.counter += 1;
		let digest = sp_io::hashing::blake2_256(&(self.secret, b"rng", self.counter).encode());
		u64::from_le_bytes(digest[..8].try_into().expect("eight bytes")) % bound.max(1)
	}

	/// Seals the current block (with a hash no actor could know before), starts the next one,
	/// runs the AgentChain hooks, then lets every actor act.
	pub fn step(&mut self) {
		let secret = self.secret;
		let mut compensated = core::mem::take(&mut self.compensated);
		self.exec(|| {
			let now = System::block_number();
			let sealed = H256(sp_io::hashing::blake2_256(&(secret, b"block", now).encode()));
			frame_system::BlockHash::<Runtime>::insert(now, sealed);
			let next = now + 1;
			for record in System::events() {
				if let agentchain_runtime::RuntimeEvent::Challenges(
					pallet_challenges::Event::RequesterCompensated { requester, amount, .. },
				) = record.event
				{
					*compensated.entry(requester).or_default() += amount;
				}
			}
			System::reset_events();
			System::initialize(&next, &sealed, &Default::default());
			Inference::on_initialize(next);
			Challenges::on_initialize(next);
			DataRewards::on_initialize(next);
		});
		self.compensated = compensated;
		self.act();
	}

	/// Steps `n` blocks.
	pub fn run(&mut self, n: u32) {
		for _ in 0..n {
			self.step();
		}
	}

	/// Steps until no task nor dispute is open (at most `limit` blocks).
	pub fn settle(&mut self, limit: u32) {
		for _ in 0..limit {
			let open = self.exec(|| {
				Tasks::<Runtime>::iter().any(|(_, t)| !t.status.is_finished())
					|| Disputes::<Runtime>::iter().next().is_some()
			});
			if !open {
				return;
			}
			self.step();
		}
	}

	fn behaviour_of(&self, who: &AccountId) -> Behaviour {
		self.behaviour.get(who).cloned().unwrap_or(Behaviour::Honest)
	}

	/// What an executor or juror gets by running task `id` honestly: the output, or `None` when
	/// its input is withheld.
	fn honest_output(&self, id: TaskId) -> Option<Vec<u8>> {
		let input = self.inputs.get(&id)?;
		if self.withheld.contains(&hash(input)) {
			return None;
		}
		Some(truth(input))
	}

	fn salt(who: &AccountId, id: TaskId, round: u32) -> [u8; 32] {
		sp_io::hashing::blake2_256(&(who, id, round, b"salt").encode())
	}

	/// The output `executor` commits to for task `id` (`None`: the input is unavailable).
	fn executor_output(&self, executor: &AccountId, id: TaskId) -> Option<Option<Vec<u8>>> {
		match self.behaviour_of(executor) {
			Behaviour::Honest | Behaviour::UriOnly => Some(self.honest_output(id)),
			Behaviour::Lazy | Behaviour::Withhold => Some(Some(b"cached".to_vec())),
			Behaviour::Empty => Some(Some(Vec::new())),
			Behaviour::Says(output) => Some(Some(output)),
			_ => None,
		}
	}

	/// The vote `juror` casts on a dispute over task `id` with disputed `result`.
	fn juror_vote(&self, juror: &AccountId, id: TaskId, result: Option<H256>) -> Option<H256> {
		let honest = || self.honest_output(id).map_or(INPUT_UNAVAILABLE, |o| hash(&o));
		match self.behaviour_of(juror) {
			Behaviour::Honest => Some(honest()),
			Behaviour::Says(output) => Some(hash(&output)),
			Behaviour::RubberStamp => Some(result.unwrap_or_else(honest)),
			Behaviour::CopyCat => Some(REJECT),
			_ => None,
		}
	}

	/// Every actor does, in this block, what its behaviour says.
	fn act(&mut self) {
		// Agents whose nodes run send heartbeats (every 50 blocks, within the liveness period).
		if self.block() % 50 == 0 {
			let live: Vec<AccountId> = self
				.agents
				.iter()
				.filter(|a| self.behaviour_of(a) != Behaviour::Offline)
				.cloned()
				.collect();
			for agent in live {
				let _ = self.call(&agent, RuntimeCall::Agents(pallet_agents::Call::heartbeat {}));
			}
		}
		let (tasks, disputes, now) = self.exec(|| {
			(
				Tasks::<Runtime>::iter().collect::<Vec<_>>(),
				Disputes::<Runtime>::iter().collect::<Vec<_>>(),
				System::block_number(),
			)
		});
		for (id, task) in tasks {
			match task.status {
				TaskStatus::Assigned => {
					for a in task.assignments.iter().filter(|a| a.commitment.is_none()) {
						let Some(output) = self.executor_output(&a.executor, id) else { continue };
						let output_hash = output.as_deref().map_or(INPUT_UNAVAILABLE, hash);
						let salt = Self::salt(&a.executor, id, task.reassignments);
						let _ = self.call(
							&a.executor,
							RuntimeCall::Inference(pallet_inference::Call::commit {
								task: id,
								commitment: commitment_of(&output_hash, &salt, &a.executor),
							}),
						);
					}
				},
				TaskStatus::Committed => {
					for a in task
						.assignments
						.iter()
						.filter(|a| a.commitment.is_some() && a.output.is_none())
					{
						if self.behaviour_of(&a.executor) == Behaviour::Withhold {
							continue;
						}
						let Some(output) = self.executor_output(&a.executor, id) else { continue };
						let output_hash = output.as_deref().map_or(INPUT_UNAVAILABLE, hash);
						let salt = Self::salt(&a.executor, id, task.reassignments);
						let (output, uri) = if self.behaviour_of(&a.executor) == Behaviour::UriOnly
						{
							(None, Some(b"https://private.example/output".to_vec()))
						} else {
							(output, None)
						};
						let _ = self.call(
							&a.executor,
							RuntimeCall::Inference(pallet_inference::Call::reveal {
								task: id,
								output_hash,
								salt,
								output,
								uri,
							}),
						);
					}
				},
				TaskStatus::Revealed => {
					let Some((watcher, percent)) = self.watcher.clone() else { continue };
					if !self.watched.insert(id) || self.random(100) >= u64::from(percent) {
						continue;
					}
					let truth = self.honest_output(id).map_or(INPUT_UNAVAILABLE, |o| hash(&o));
					if task.result != Some(truth) && now < task.phase_ends {
						let bond = self.exec(|| Challenges::base_bond(task.fee));
						let _ = self.call(
							&watcher,
							RuntimeCall::Challenges(pallet_challenges::Call::challenge {
								task: id,
								bond,
							}),
						);
					}
				},
				_ => {},
			}
		}
		for (id, dispute) in disputes {
			match dispute.phase {
				DisputePhase::Committing => {
					for seat in dispute.jury.iter().filter(|s| s.commitment.is_none()) {
						let Some(vote) = self.juror_vote(&seat.juror, id, dispute.result) else {
							continue;
						};
						let salt = Self::salt(&seat.juror, id, dispute.round);
						let _ = self.call(
							&seat.juror,
							RuntimeCall::Challenges(pallet_challenges::Call::commit_vote {
								task: id,
								commitment: vote_commitment(
									id,
									dispute.round,
									&vote,
									&salt,
									&seat.juror,
								),
							}),
						);
					}
				},
				DisputePhase::Revealing => {
					for seat in
						dispute.jury.iter().filter(|s| s.commitment.is_some() && s.vote.is_none())
					{
						let vote = match self.behaviour_of(&seat.juror) {
							// The copycat sees the majority now, but its commitment binds a
							// placeholder: the majority's vote does not open it.
							Behaviour::CopyCat => {
								dispute.jury.iter().filter_map(|s| s.vote).next().unwrap_or(REJECT)
							},
							_ => match self.juror_vote(&seat.juror, id, dispute.result) {
								Some(vote) => vote,
								None => continue,
							},
						};
						let salt = Self::salt(&seat.juror, id, dispute.round);
						let _ = self.call(
							&seat.juror,
							RuntimeCall::Challenges(pallet_challenges::Call::reveal_vote {
								task: id,
								vote,
								salt,
							}),
						);
					}
				},
				DisputePhase::Appealable if self.appeals && now < dispute.phase_ends => {
					let truth = self.honest_output(id).map_or(INPUT_UNAVAILABLE, |o| hash(&o));
					if dispute.verdict == Some(truth) || truth == INPUT_UNAVAILABLE {
						continue;
					}
					// An honest party the verdict wrongs appeals: an executor that revealed the
					// truth and was found wrong, or the watcher whose challenge of a wrong
					// result did not stand.
					let honest_executor = dispute
						.revealed
						.iter()
						.find(|(e, output)| {
							*output == truth && self.honest.contains(e) && dispute.verdict.is_some()
						})
						.map(|(e, _)| e.clone());
					let watcher = dispute
						.challenger()
						.filter(|c| self.honest.contains(*c))
						.filter(|_| dispute.result.is_some_and(|r| r != truth))
						.cloned();
					let Some(appellant) = honest_executor.or(watcher) else { continue };
					let bond =
						self.exec(|| Challenges::appeal_bond(dispute.fee, dispute.round + 1));
					let _ = self.call(
						&appellant,
						RuntimeCall::Challenges(pallet_challenges::Call::appeal { task: id, bond }),
					);
				},
				_ => {},
			}
		}
	}

	/// What happened, measured from the last [`World::mark`].
	pub fn outcome(&mut self, name: &'static str, note: impl Into<String>) -> Outcome {
		let start = self.start.clone();
		let fees = self.fees.clone();
		let honest = self.honest.clone();
		let attacker = self.attacker.clone();
		let requesters = self.requesters.clone();
		let inputs = self.inputs.clone();
		let compensated = self.compensated.clone();
		let protocol_start = self.protocol_start;
		self.exec(|| {
			let delta = |who: &AccountId| {
				Balances::total_balance(who) as i128 - *start.get(who).unwrap_or(&0) as i128
			};
			let attacker_pnl: i128 = attacker.iter().map(delta).sum();
			let mut honest_loss: i128 = honest
				.iter()
				.filter(|who| !attacker.contains(*who))
				.map(|who| delta(who) + *fees.get(who).unwrap_or(&0) as i128)
				.filter(|change| *change < 0)
				.map(|change| -change)
				.sum();
			// Honest requesters who paid for wrong results, net of the compensation they were
			// paid for the wrong results found.
			let mut paid_for_wrong: BTreeMap<AccountId, i128> = BTreeMap::new();
			for (id, task) in Tasks::<Runtime>::iter() {
				let Some(input) = inputs.get(&id) else { continue };
				let wrong =
					task.result.is_some_and(|r| r != hash(&truth(input)) && r != INPUT_UNAVAILABLE);
				if requesters.contains(&task.requester)
					&& task.status == TaskStatus::Finalised
					&& wrong
				{
					*paid_for_wrong.entry(task.requester).or_default() += task.fee as i128;
				}
			}
			for (requester, paid) in paid_for_wrong {
				let compensation = *compensated.get(&requester).unwrap_or(&0) as i128;
				honest_loss += (paid - compensation).max(0);
			}
			let protocol =
				Balances::total_balance(&Inference::account_id()) as i128 - protocol_start as i128;
			Outcome { name, attacker: attacker_pnl, honest_loss, protocol, note: note.into() }
		})
	}

	/// Checks every pallet's invariants.
	pub fn check(&mut self) {
		self.exec(|| {
			pallet_agents::Pallet::<Runtime>::do_try_state().expect("agent invariants hold");
			pallet_inference::Pallet::<Runtime>::do_try_state().expect("inference invariants hold");
			pallet_challenges::Pallet::<Runtime>::do_try_state()
				.expect("challenge invariants hold");
			pallet_data_rewards::Pallet::<Runtime>::do_try_state()
				.expect("data-rewards invariants hold");
		});
	}
}

/// A balance in AGC, for the report.
pub fn agc(units: i128) -> String {
	let sign = if units < 0 { "-" } else { "+" };
	let units = units.unsigned_abs();
	let whole = units / UNIT;
	let fraction = (units % UNIT) / (UNIT / 1_000_000);
	format!("{sign}{whole}.{fraction:06}")
}

/// Whether `r` is refused with the pallet error `name`.
pub fn refused_with(r: &Result<impl Sized, DispatchError>, name: &str) -> bool {
	matches!(r, Err(DispatchError::Module(m)) if m.message == Some(name))
}
