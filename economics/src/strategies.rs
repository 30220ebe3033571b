//! The strategies: each builds a world of honest parties, gives an attacker accounts and a
//! behaviour, plays it for many blocks, and reports the attacker's profit or loss and what the
//! honest parties lost.
//!
//! Every world has the same honest base: six executors and twelve verifiers of the model
//! `ngram-en` (500 AGC each), three curators, a requester, and a watcher who re-executes 10 %
//! of the results it sees and challenges the wrong ones. Honest parties appeal verdicts they
//! know are wrong. Transaction fees are what the runtime charges.

use crate::world::{account, hash, model, refused_with, Behaviour, Outcome, World};
use agentchain_primitives::{agents::Role, inference::TaskId, ModelId};
use agentchain_runtime::{AccountId, Balance, RuntimeCall, UNIT};
use pallet_inference::TaskInput;

/// The honest model.
pub fn honest_model() -> ModelId {
	model("ngram-en")
}

/// The fee of an honest task with one executor.
const FEE: Balance = UNIT;

/// Endowment of every actor.
const ENDOWMENT: Balance = 100_000 * UNIT;

/// The honest base world, with `extra` accounts endowed as well.
fn base(seed: &str, extra: &[AccountId]) -> World {
	let mut accounts: Vec<(AccountId, Balance)> = Vec::new();
	let names: Vec<String> = (0..6)
		.map(|i| format!("executor-{i}"))
		.chain((0..12).map(|i| format!("verifier-{i}")))
		.chain((0..3).map(|i| format!("curator-{i}")))
		.chain(["requester", "watcher", "newcomer"].map(String::from))
		.collect();
	for name in &names {
		accounts.push((account(name), ENDOWMENT));
	}
	for who in extra {
		accounts.push((who.clone(), ENDOWMENT));
	}
	let mut world = World::new(seed, &accounts);
	for i in 0..6 {
		let who = account(&format!("executor-{i}"));
		world
			.register(&who, vec![honest_model()], vec![Role::Executor], 500 * UNIT)
			.unwrap();
		world.honest.insert(who);
	}
	for i in 0..12 {
		let who = account(&format!("verifier-{i}"));
		world
			.register(&who, vec![honest_model()], vec![Role::Verifier], 500 * UNIT)
			.unwrap();
		world.honest.insert(who);
	}
	for i in 0..3 {
		let who = account(&format!("curator-{i}"));
		world.register(&who, vec![], vec![Role::Curator], 100 * UNIT).unwrap();
		world.honest.insert(who);
	}
	world.requesters.insert(account("requester"));
	world.honest.insert(account("watcher"));
	world.watcher = Some((account("watcher"), 10));
	world.step();
	world
}

/// A base world with one attacking executor of the honest model, staking 2,000 AGC and acting
/// as `behaviour`; `extra` attacking accounts are endowed too. The ledger is marked.
fn lone_executor(seed: &str, name: &str, behaviour: Behaviour, extra: &[AccountId]) -> World {
	let attacker = account(name);
	let mut endowed = vec![attacker.clone()];
	endowed.extend_from_slice(extra);
	let mut world = base(seed, &endowed);
	world
		.register(&attacker, vec![honest_model()], vec![Role::Executor], 2_000 * UNIT)
		.unwrap();
	world.behaviour.insert(attacker.clone(), behaviour);
	world.attacker.insert(attacker);
	world.attacker.extend(extra.iter().cloned());
	world.mark();
	world
}

/// `who` registers a dataset whose content hashes `content`; returns its id.
fn register_dataset(
	world: &mut World,
	who: &AccountId,
	content: &[u8],
) -> pallet_data_rewards::DatasetId {
	let id = world.exec(pallet_data_rewards::NextDatasetId::<agentchain_runtime::Runtime>::get);
	world
		.call(
			who,
			RuntimeCall::DataRewards(pallet_data_rewards::Call::register_dataset {
				content_hash: hash(content),
				uri: b"https://data".to_vec(),
				license: b"MIT".to_vec(),
				size: 1,
				description: b"".to_vec(),
			}),
		)
		.unwrap();
	id
}

/// The honest requester submits `n` tasks of `model`, one a block, each with fee `fee`.
fn honest_tasks(
	world: &mut World,
	model: ModelId,
	n: u32,
	fee: Balance,
	redundancy: u32,
) -> Vec<TaskId> {
	let requester = account("requester");
	let mut ids = Vec::new();
	for i in 0..n {
		let input = format!("honest prompt {i} of model {model:?}");
		if let Ok(id) = world.submit(&requester, model, input.as_bytes(), fee, redundancy) {
			ids.push(id);
		}
		world.step();
	}
	ids
}

/// Drain: one attacker owns both executors and all three verifiers of a private model, and
/// has its executors disagree on every task, its jury always siding with the same one. Juror
/// pay outside audits comes only from the loser's slash, and each assignment reserves its
/// slash in advance.
pub fn drain() -> Outcome {
	let [requester, e1, e2, v1, v2, v3] =
		["d-requester", "d-e1", "d-e2", "d-v1", "d-v2", "d-v3"].map(account);
	let mut world = base(
		"drain",
		&[requester.clone(), e1.clone(), e2.clone(), v1.clone(), v2.clone(), v3.clone()],
	);
	let private = model("private");
	world.register(&e1, vec![private], vec![Role::Executor], 100 * UNIT).unwrap();
	world.register(&e2, vec![private], vec![Role::Executor], 100 * UNIT).unwrap();
	for v in [&v1, &v2, &v3] {
		world.register(v, vec![private], vec![Role::Verifier], 100 * UNIT).unwrap();
		world.behaviour.insert(v.clone(), Behaviour::Says(b"a".to_vec()));
	}
	world.behaviour.insert(e1.clone(), Behaviour::Says(b"a".to_vec()));
	world.behaviour.insert(e2.clone(), Behaviour::Says(b"b".to_vec()));
	world.attacker.extend([requester.clone(), e1, e2, v1, v2, v3]);
	world.mark();
	let mut disputes = 0;
	for i in 0..50 {
		let input = format!("drain {i}");
		if world
			.submit(&requester, private, input.as_bytes(), 2 * 10 * UNIT / 1_000, 2)
			.is_err()
		{
			break;
		}
		disputes += 1;
		world.settle(200);
	}
	world.check();
	world.outcome(
		"drain the protocol account through disagreements",
		format!("disputes until the loser's stake backs no more work: {disputes}; jurors paid from its slashes"),
	)
}

/// Squatting: the attacker fills a model's candidate set with paused minimum-stake agents.
pub fn squat_candidate_set() -> Outcome {
	let squatters: Vec<AccountId> = (0..64).map(|i| account(&format!("squatter-{i}"))).collect();
	let mut world = base("squat", &squatters);
	let fresh = model("fresh");
	world.attacker.extend(squatters.iter().cloned());
	world.mark();
	for who in &squatters {
		world.register(who, vec![fresh], vec![Role::Executor], 100 * UNIT).unwrap();
		world.call(who, RuntimeCall::Agents(pallet_agents::Call::pause {})).unwrap();
		world.behaviour.insert(who.clone(), Behaviour::Offline);
	}
	// An honest agent with the minimum stake takes a seat, and executes the model's tasks.
	let newcomer = account("newcomer");
	world.honest.insert(newcomer.clone());
	let joined = world.register(&newcomer, vec![fresh], vec![Role::Executor], 100 * UNIT);
	let ids = honest_tasks(&mut world, fresh, 3, FEE, 1);
	world.settle(200);
	let executed = world.exec(|| {
		ids.iter()
			.filter(|id| {
				pallet_inference::Tasks::<agentchain_runtime::Runtime>::get(*id)
					.is_some_and(|t| t.status == pallet_inference::TaskStatus::Finalised)
			})
			.count()
	});
	assert!(joined.is_ok() && executed == ids.len(), "the newcomer serves the model");
	world.check();
	world.outcome(
		"squat a model's candidate set",
		format!(
			"64 paused squatters; the newcomer joined and executed {executed} of {} tasks",
			ids.len()
		),
	)
}

/// A requester feeds its executors inputs they can only fail on: bytes that are not text
/// (refused on chain), and a referenced input it withholds (answered "input unavailable", paid
/// as an attempt, nobody slashed).
pub fn undeliverable_inputs() -> Outcome {
	let attacker = account("u-requester");
	let mut world = base("inputs", &[attacker.clone()]);
	world.attacker.insert(attacker.clone());
	world.mark();
	let refused = world.submit(&attacker, honest_model(), &[0xff], FEE, 1);
	assert!(refused_with(&refused, "InputNotText"));
	for i in 0..5 {
		let bytes = format!("withheld input {i}").into_bytes();
		world.withheld.insert(hash(&bytes));
		let input = TaskInput::Reference {
			hash: hash(&bytes),
			uri: b"https://attacker.example/input".to_vec(),
		};
		let _ = world.submit_with(&attacker, honest_model(), input, &bytes, 2 * FEE, 2);
		world.step();
	}
	world.settle(200);
	world.check();
	world.outcome(
		"feed executors inputs they can only fail on",
		"0xff refused; withheld inputs paid as attempts",
	)
}

/// The attacker predicts each jury from the hash it can see when it challenges, and challenges
/// honest results only when its two verifiers (of fourteen) would hold a majority; they vote
/// the result down. The jury is drawn a block later, from the hash of the challenge's block.
pub fn jury_grinding() -> Outcome {
	let [challenger, v1, v2] = ["g-challenger", "g-v1", "g-v2"].map(account);
	let mut world = base("grinding", &[challenger.clone(), v1.clone(), v2.clone()]);
	for v in [&v1, &v2] {
		world
			.register(v, vec![honest_model()], vec![Role::Verifier], 500 * UNIT)
			.unwrap();
		world.behaviour.insert(v.clone(), Behaviour::Says(b"overturned".to_vec()));
	}
	world.attacker.extend([challenger.clone(), v1.clone(), v2.clone()]);
	world.watcher = None;
	world.mark();
	let mut challenges = 0;
	for round in 0..40 {
		let input = format!("grinding {round}");
		let Ok(id) = world.submit(&account("requester"), honest_model(), input.as_bytes(), FEE, 1)
		else {
			continue;
		};
		world.run(4);
		// The prediction: the jury the draw would give with the last sealed hash.
		let predicted = world.exec(|| {
			use agentchain_primitives::agents::AgentRegistry;
			let parent = frame_system::Pallet::<agentchain_runtime::Runtime>::parent_hash();
			let seed =
				sp_io::hashing::blake2_256(&(b"challenges/jury", id, 0u32, parent).encode_ref());
			pallet_agents::Pallet::<agentchain_runtime::Runtime>::select(
				Role::Verifier,
				&honest_model(),
				3,
				seed,
				&[],
				UNIT / 4,
				None,
			)
			.unwrap_or_default()
		});
		let mine = predicted.iter().filter(|j| **j == v1 || **j == v2).count();
		if mine >= 2 {
			let bond = world.exec(|| agentchain_runtime::Challenges::base_bond(FEE));
			if world
				.call(
					&challenger,
					RuntimeCall::Challenges(pallet_challenges::Call::challenge { task: id, bond }),
				)
				.is_ok()
			{
				challenges += 1;
			}
		}
		world.settle(200);
	}
	world.check();
	world.outcome(
		"grind the jury draw",
		format!("challenges when the visible hash predicted a majority: {challenges}, all lost"),
	)
}

trait EncodeRef {
	fn encode_ref(&self) -> Vec<u8>;
}
impl<T: codec::Encode> EncodeRef for T {
	fn encode_ref(&self) -> Vec<u8> {
		self.encode()
	}
}

/// One revealed vote: the attacker challenges correct results of a model whose other two
/// verifiers are blacked out, and its own verifier votes the result down. A verdict needs an
/// absolute majority of the jury; without one the challenger pays the jury.
pub fn lone_vote() -> Outcome {
	let [challenger, mine, off1, off2, executor, requester] =
		["l-challenger", "l-mine", "l-off1", "l-off2", "l-executor", "l-requester"].map(account);
	let mut world = base(
		"lone",
		&[
			challenger.clone(),
			mine.clone(),
			off1.clone(),
			off2.clone(),
			executor.clone(),
			requester.clone(),
		],
	);
	let niche = model("niche");
	world
		.register(&executor, vec![niche], vec![Role::Executor], 500 * UNIT)
		.unwrap();
	world.honest.insert(executor.clone());
	world.requesters.insert(requester.clone());
	for v in [&mine, &off1, &off2] {
		world.register(v, vec![niche], vec![Role::Verifier], 500 * UNIT).unwrap();
	}
	world.behaviour.insert(mine.clone(), Behaviour::Says(b"overturned".to_vec()));
	// Blacked out: they are neither attacker nor counted among the honest (they fail their
	// duty, and pay its penalty).
	world.behaviour.insert(off1, Behaviour::Offline);
	world.behaviour.insert(off2, Behaviour::Offline);
	world.attacker.extend([challenger.clone(), mine]);
	world.watcher = None;
	world.mark();
	let mut overturned = 0;
	for i in 0..6 {
		let input = format!("niche {i}");
		let Ok(id) = world.submit(&requester, niche, input.as_bytes(), FEE, 1) else { continue };
		world.run(4);
		let bond = world.exec(|| agentchain_runtime::Challenges::base_bond(FEE));
		let _ = world.call(
			&challenger,
			RuntimeCall::Challenges(pallet_challenges::Call::challenge { task: id, bond }),
		);
		world.settle(200);
		let status = world.exec(|| {
			pallet_inference::Tasks::<agentchain_runtime::Runtime>::get(id).map(|t| t.status)
		});
		if status == Some(pallet_inference::TaskStatus::Expired) {
			overturned += 1;
		}
	}
	world.check();
	world.outcome(
		"win a dispute with one revealed vote",
		format!("results overturned: {overturned}; no verdict without a quorum"),
	)
}

/// Queue stuffing: the attacker floods the deadline queues with its own tasks, all falling due
/// with honest ones, so that a block has more deadlines than it processes. Work is deferred in
/// order, never dropped: the honest executors are paid, nobody is slashed for it.
pub fn queue_stuffing() -> Outcome {
	let [requester, flooder] = ["q-requester", "q-flooder"].map(account);
	let mut world = base("queues", &[requester.clone(), flooder.clone()]);
	let junk = model("junk");
	world
		.register(&flooder, vec![junk], vec![Role::Executor], 10_000 * UNIT)
		.unwrap();
	world.behaviour.insert(flooder.clone(), Behaviour::Offline);
	world.attacker.extend([requester.clone(), flooder]);
	world.mark();
	// Three hundred junk tasks and three honest ones in one block: 303 draws at once, then as
	// many commit deadlines, more than a block's deadline budget (150 ms) processes.
	for i in 0..300 {
		let _ =
			world.submit(&requester, junk, format!("junk {i}").as_bytes(), 10 * UNIT / 1_000, 1);
	}
	let honest_requester = account("requester");
	for i in 0..3 {
		let _ = world.submit(
			&honest_requester,
			honest_model(),
			format!("honest {i}").as_bytes(),
			FEE,
			1,
		);
	}
	world.settle(300);
	world.check();
	world.outcome(
		"stuff the deadline queues",
		"303 deadlines in one block: deferred in order, nothing dropped",
	)
}

/// The attacker names an honest account as its operator key, to stop it registering its own
/// agent and challenging the attacker's results. The named account is free until it accepts.
pub fn operator_without_consent() -> Outcome {
	let [owner] = ["o-owner"].map(account);
	let mut world = base("operator", &[owner.clone()]);
	world
		.register(&owner, vec![honest_model()], vec![Role::Executor], 500 * UNIT)
		.unwrap();
	world.attacker.insert(owner.clone());
	world.mark();
	let victim = account("newcomer");
	world.honest.insert(victim.clone());
	world
		.call(
			&owner,
			RuntimeCall::Agents(pallet_agents::Call::set_operator {
				operator: victim.clone().into(),
			}),
		)
		.unwrap();
	world
		.register(&victim, vec![honest_model()], vec![Role::Verifier], 500 * UNIT)
		.expect("the victim registers");
	world.step();
	world.check();
	world.outcome(
		"name an operator without its consent",
		"the named account registered its own agent",
	)
}

/// Free inference: the requester's own executor reveals garbage next to an honest one, hoping
/// the dispute ends without a verdict and refunds it. The jury finds the garbage wrong.
pub fn free_inference() -> Outcome {
	let [requester, colluder, honest] = ["f-requester", "f-colluder", "f-honest"].map(account);
	let mut world = base("free", &[requester.clone(), colluder.clone(), honest.clone()]);
	let shared = model("shared");
	world.register(&honest, vec![shared], vec![Role::Executor], 500 * UNIT).unwrap();
	world
		.register(&colluder, vec![shared], vec![Role::Executor], 500 * UNIT)
		.unwrap();
	world.honest.insert(honest);
	for i in 0..12 {
		let v = account(&format!("verifier-{i}"));
		world
			.call(
				&v,
				RuntimeCall::Agents(pallet_agents::Call::set_models {
					models: vec![honest_model(), shared],
				}),
			)
			.unwrap();
	}
	world.behaviour.insert(colluder.clone(), Behaviour::Says(b"garbage".to_vec()));
	world.attacker.extend([requester.clone(), colluder]);
	world.mark();
	// Exact match at a temperature above zero is refused outright.
	let hot = world.call(
		&requester,
		RuntimeCall::Inference(pallet_inference::Call::submit_task {
			model: shared,
			input: TaskInput::Inline(b"hot".to_vec()),
			params: pallet_inference::TaskParams {
				max_tokens: 16,
				temperature_milli: 1500,
				seed: 1,
				mode: agentchain_primitives::inference::VerificationMode::ExactMatch,
			},
			fee: 2 * FEE,
			redundancy: 2,
			commit_period: 3,
		}),
	);
	assert!(refused_with(&hot, "TemperatureNotZero"));
	for i in 0..5 {
		let _ = world.submit(&requester, shared, format!("free {i}").as_bytes(), 2 * FEE, 2);
		world.settle(200);
	}
	world.check();
	world.outcome(
		"get inference free through a disagreement",
		"temperature > 0 refused; the garbage executor is slashed",
	)
}

/// Free inference where nobody can judge: on a model without verifiers, the requester's own
/// executor reveals garbage next to an honest one. No jury can be drawn, so every delivered
/// output is paid: the requester pays for the honest answer.
pub fn unjudgeable_disagreement() -> Outcome {
	let [requester, colluder, honest] = ["u-requester", "u-colluder", "u-honest"].map(account);
	let mut world = base("unjudged", &[requester.clone(), colluder.clone(), honest.clone()]);
	let lonely = model("lonely");
	world.register(&honest, vec![lonely], vec![Role::Executor], 500 * UNIT).unwrap();
	world
		.register(&colluder, vec![lonely], vec![Role::Executor], 500 * UNIT)
		.unwrap();
	world.honest.insert(honest);
	world.behaviour.insert(colluder.clone(), Behaviour::Says(b"garbage".to_vec()));
	world.attacker.extend([requester.clone(), colluder]);
	world.mark();
	for i in 0..5 {
		let _ = world.submit(&requester, lonely, format!("lonely {i}").as_bytes(), 2 * FEE, 2);
		world.settle(100);
	}
	world.check();
	world.outcome(
		"get inference free where no jury can be drawn",
		"no verifiers: both outputs paid, nobody slashed",
	)
}

/// Jury mode with several executors, of which only the first output could be challenged: a
/// jury-mode task has one executor. Jury mode at a temperature above zero, where honest jurors
/// would reject honest (sampled) outputs: every task decodes greedily.
pub fn jury_mode_redundancy() -> Outcome {
	let requester = account("j-requester");
	let mut world = base("jury", &[requester.clone()]);
	world.attacker.insert(requester.clone());
	world.mark();
	let jury_task = |world: &mut World, temperature_milli: u32, redundancy: u32| {
		world.call(
			&requester,
			RuntimeCall::Inference(pallet_inference::Call::submit_task {
				model: honest_model(),
				input: TaskInput::Inline(b"a poem".to_vec()),
				params: pallet_inference::TaskParams {
					max_tokens: 16,
					temperature_milli,
					seed: 1,
					mode: agentchain_primitives::inference::VerificationMode::Jury,
				},
				fee: 2 * FEE,
				redundancy,
				commit_period: 3,
			}),
		)
	};
	let several = jury_task(&mut world, 0, 2);
	assert!(refused_with(&several, "JuryModeRedundancy"));
	// A sampled output differs from every juror's own: honest jurors would reject it, and the
	// requester would collect the honest executor's slash.
	let sampled = jury_task(&mut world, 2000, 1);
	assert!(refused_with(&sampled, "TemperatureNotZero"));
	world.check();
	world.outcome(
		"get unjudged jury-mode outputs paid, or sampled ones rejected",
		"refused: a jury-mode task has one executor, decoding greedily",
	)
}

/// A lazy executor whose accomplice challenges its wrong results first, to recover the slash as
/// the challenger's reward.
pub fn self_challenge() -> Outcome {
	let [lazy, accomplice] = ["s-lazy", "s-accomplice"].map(account);
	let mut world = lone_executor("self", "s-lazy", Behaviour::Lazy, &[accomplice.clone()]);
	let mut laundered = 0;
	for i in 0..30 {
		let input = format!("self {i}");
		let Ok(id) = world.submit(&account("requester"), honest_model(), input.as_bytes(), FEE, 1)
		else {
			continue;
		};
		world.run(4);
		let executor = world.exec(|| {
			pallet_inference::Tasks::<agentchain_runtime::Runtime>::get(id)
				.and_then(|t| t.assignments.first().map(|a| a.executor.clone()))
		});
		if executor.as_ref() == Some(&lazy) {
			let bond = world.exec(|| agentchain_runtime::Challenges::base_bond(FEE));
			if world
				.call(
					&accomplice,
					RuntimeCall::Challenges(pallet_challenges::Call::challenge { task: id, bond }),
				)
				.is_ok()
			{
				laundered += 1;
			}
		}
		world.settle(200);
	}
	world.check();
	world.outcome(
		"launder a slash through one's own challenge",
		format!("self-challenges: {laundered}; each recovers 25 % of what the jurors leave"),
	)
}

/// A cheater next to an honest co-executor withholds its reveal once it would differ, paying a
/// missed reveal instead of a wrong result.
pub fn withhold_reveal() -> Outcome {
	let mut world = lone_executor("withhold", "w-cheater", Behaviour::Withhold, &[]);
	honest_tasks(&mut world, honest_model(), 20, 2 * FEE, 2);
	world.settle(300);
	world.check();
	world.outcome(
		"withhold a reveal that would lose",
		"a missed reveal costs as much as a wrong result",
	)
}

/// An executor keeps its output off chain (a URI only), so that the requester pays for a result
/// it cannot read. Reveals must carry the output inline.
pub fn uri_only_output() -> Outcome {
	let mut world = lone_executor("uri", "h-hider", Behaviour::UriOnly, &[]);
	honest_tasks(&mut world, honest_model(), 20, FEE, 1);
	world.settle(300);
	world.check();
	world.outcome(
		"get paid for an output kept off chain",
		"refused inline-less reveals end as missed reveals",
	)
}

/// The first executor to declare a model squats its dataset list, then stops serving the model.
/// A current executor of the model takes the record over.
pub fn model_record_squat() -> Outcome {
	let [squatter, contributor] = ["m-squatter", "m-contributor"].map(account);
	let mut world = base("record", &[squatter.clone(), contributor.clone()]);
	world
		.register(&squatter, vec![honest_model()], vec![Role::Executor], 500 * UNIT)
		.unwrap();
	world.attacker.insert(squatter.clone());
	world.mark();
	let squat = register_dataset(&mut world, &squatter, &[1]);
	world
		.call(
			&squatter,
			RuntimeCall::DataRewards(pallet_data_rewards::Call::declare_model {
				model: honest_model(),
				datasets: vec![squat],
			}),
		)
		.unwrap();
	world
		.call(&squatter, RuntimeCall::Agents(pallet_agents::Call::pause {}))
		.unwrap();
	world.behaviour.insert(squatter.clone(), Behaviour::Offline);
	// An honest executor of the model takes the record over for the data it really uses.
	let honest_executor = account("executor-0");
	world.honest.insert(contributor.clone());
	let used = register_dataset(&mut world, &contributor, &[2]);
	world
		.call(
			&honest_executor,
			RuntimeCall::DataRewards(pallet_data_rewards::Call::declare_model {
				model: honest_model(),
				datasets: vec![used],
			}),
		)
		.expect("taken over");
	honest_tasks(&mut world, honest_model(), 10, FEE, 1);
	world.settle(300);
	world.check();
	world.outcome("own a model's dataset list forever", "the record followed the model's executors")
}

/// A curator with less than half the attesting stake scores a competitor's dataset 0 to zero
/// its reward.
pub fn curator_zeroing() -> Outcome {
	let [curator, contributor] = ["c-curator", "c-contributor"].map(account);
	let mut world = base("curation", &[curator.clone(), contributor.clone()]);
	world.register(&curator, vec![], vec![Role::Curator], 100 * UNIT).unwrap();
	world.attacker.insert(curator.clone());
	world.honest.insert(contributor.clone());
	world.mark();
	register_dataset(&mut world, &contributor, b"corpus");
	for epoch in 0..4 {
		let _ = world.call(
			&curator,
			RuntimeCall::DataRewards(pallet_data_rewards::Call::attest { dataset: 0, score: 0 }),
		);
		for i in 0..3 {
			let _ = world.call(
				&account(&format!("curator-{i}")),
				RuntimeCall::DataRewards(pallet_data_rewards::Call::attest {
					dataset: 0,
					score: 90,
				}),
			);
		}
		world.run(21);
		let _ = epoch;
	}
	world.run(5);
	world.check();
	world.outcome(
		"zero a competitor's data reward",
		"the median ignores a minority; each outlier score costs 1 AGC",
	)
}

/// A lazy executor returns a cached output instead of running the model, counting on nobody
/// checking. Single-executor tasks are caught by audits (5 %) and the watcher (10 %), at 25
/// times the fee; tasks with two executors by the honest co-executor, every time.
pub fn lazy_executor() -> Outcome {
	let mut world = lone_executor("lazy", "z-lazy", Behaviour::Lazy, &[]);
	// The honest requester asks for two executors: it pays only for results it can trust.
	honest_tasks(&mut world, honest_model(), 100, 2 * FEE, 2);
	world.settle(400);
	world.check();
	world.outcome(
		"return a cached output",
		"disagrees with its honest co-executor, slashed 25 × its share each time",
	)
}

/// The same lazy executor on single-executor tasks: audits and the watcher catch about 15 % of
/// its results. Each one found pays its requester up to 19 times the fee out of the slash, so
/// that requesters lose nothing in expectation to the results nobody checks.
pub fn lazy_executor_alone() -> Outcome {
	let mut world = lone_executor("lazy-alone", "z-lazy", Behaviour::Lazy, &[]);
	honest_tasks(&mut world, honest_model(), 100, FEE, 1);
	world.settle(400);
	world.check();
	world.outcome(
		"return a cached output, single-executor tasks",
		"caught by audits and the watcher; each result found wrong compensates its requester",
	)
}

/// An executor that returns an empty output on single-executor tasks.
pub fn empty_executor() -> Outcome {
	let mut world = lone_executor("empty", "e-empty", Behaviour::Empty, &[]);
	honest_tasks(&mut world, honest_model(), 100, FEE, 1);
	world.settle(400);
	world.check();
	world.outcome(
		"return an empty output, single-executor tasks",
		"caught by audits and the watcher; each result found wrong compensates its requester",
	)
}

/// A juror who would copy the majority: votes are committed before anyone reveals, so it has
/// nothing to copy from, and its placeholder cannot be revealed as the majority's vote.
pub fn copycat_juror() -> Outcome {
	let [copycat, lazy] = ["k-copycat", "k-lazy"].map(account);
	let mut world = base("copycat", &[copycat.clone(), lazy.clone()]);
	world
		.register(&copycat, vec![honest_model()], vec![Role::Verifier], 2_000 * UNIT)
		.unwrap();
	world.behaviour.insert(copycat.clone(), Behaviour::CopyCat);
	// A lazy executor (not the attacker) gives the jurors disputes to sit on.
	world
		.register(&lazy, vec![honest_model()], vec![Role::Executor], 5_000 * UNIT)
		.unwrap();
	world.behaviour.insert(lazy, Behaviour::Lazy);
	world.watcher = Some((account("watcher"), 100));
	world.attacker.insert(copycat);
	world.mark();
	honest_tasks(&mut world, honest_model(), 60, FEE, 1);
	world.settle(400);
	world.check();
	world.outcome(
		"copy the majority's votes",
		"commit–reveal: nothing to copy; every seat costs the penalty",
	)
}

/// The attacker holds `k` verifiers among twelve honest ones, and challenges every honest
/// result, its verifiers voting it down: it wins only when its jurors hold a majority, and the
/// honest executor then appeals to a larger jury of fresh verifiers.
pub fn colluding_jury(k: usize) -> Outcome {
	let name = match k {
		1 => "colluding jury: 1 of 13 verifiers",
		2 => "colluding jury: 2 of 14 verifiers",
		_ => "colluding jury: 3 of 15 verifiers",
	};
	let challenger = account("x-challenger");
	let verifiers: Vec<AccountId> = (0..k).map(|i| account(&format!("x-verifier-{i}"))).collect();
	let mut extra = verifiers.clone();
	extra.push(challenger.clone());
	let mut world = base(name, &extra);
	for v in &verifiers {
		world
			.register(v, vec![honest_model()], vec![Role::Verifier], 500 * UNIT)
			.unwrap();
		world.behaviour.insert(v.clone(), Behaviour::Says(b"overturned".to_vec()));
	}
	world.attacker.extend(verifiers);
	world.attacker.insert(challenger.clone());
	world.watcher = None;
	world.mark();
	let mut overturned = 0;
	for i in 0..20 {
		let input = format!("collusion {i}");
		let Ok(id) = world.submit(&account("requester"), honest_model(), input.as_bytes(), FEE, 1)
		else {
			continue;
		};
		world.run(4);
		let bond = world.exec(|| agentchain_runtime::Challenges::base_bond(FEE));
		let _ = world.call(
			&challenger,
			RuntimeCall::Challenges(pallet_challenges::Call::challenge { task: id, bond }),
		);
		world.settle(300);
		let status = world.exec(|| {
			pallet_inference::Tasks::<agentchain_runtime::Runtime>::get(id).map(|t| t.status)
		});
		if status == Some(pallet_inference::TaskStatus::Expired) {
			overturned += 1;
		}
	}
	world.check();
	world.outcome(name, format!("honest results overturned: {overturned} of 20; bonds forfeited"))
}

/// A requester pays its own executor for tasks of its own model, to farm data rewards for its
/// own dataset. Rewards come only out of the protocol cut the tasks paid.
pub fn wash_trading() -> Outcome {
	let [requester, executor] = ["t-requester", "t-executor"].map(account);
	let mut world = base("wash", &[requester.clone(), executor.clone()]);
	let own = model("own");
	world.register(&executor, vec![own], vec![Role::Executor], 500 * UNIT).unwrap();
	world.attacker.extend([requester.clone(), executor.clone()]);
	world.mark();
	let dataset = register_dataset(&mut world, &requester, b"wash");
	world
		.call(
			&executor,
			RuntimeCall::DataRewards(pallet_data_rewards::Call::declare_model {
				model: own,
				datasets: vec![dataset],
			}),
		)
		.unwrap();
	for i in 0..20 {
		let _ = world.submit(&requester, own, format!("wash {i}").as_bytes(), 10 * UNIT, 1);
		world.step();
	}
	world.settle(300);
	world.run(25);
	let _ = world
		.call(&requester, RuntimeCall::DataRewards(pallet_data_rewards::Call::claim { dataset }));
	world.check();
	world.outcome(
		"wash-trade for data rewards",
		"rewards never exceed the protocol cut the tasks paid",
	)
}

/// A challenger that challenges results it has not checked.
pub fn frivolous_challenger() -> Outcome {
	let challenger = account("v-challenger");
	let mut world = base("frivolous", &[challenger.clone()]);
	world.attacker.insert(challenger.clone());
	world.watcher = None;
	world.mark();
	for i in 0..10 {
		let input = format!("frivolous {i}");
		let Ok(id) = world.submit(&account("requester"), honest_model(), input.as_bytes(), FEE, 1)
		else {
			continue;
		};
		world.run(4);
		let bond = world.exec(|| agentchain_runtime::Challenges::base_bond(FEE));
		let _ = world.call(
			&challenger,
			RuntimeCall::Challenges(pallet_challenges::Call::challenge { task: id, bond }),
		);
		world.settle(300);
	}
	world.check();
	world.outcome(
		"challenge without checking",
		"every bond forfeited to the jurors and the executor",
	)
}

/// Every strategy, in the order of the report.
pub fn all() -> Vec<fn() -> Outcome> {
	vec![
		drain,
		undeliverable_inputs,
		jury_grinding,
		lone_vote,
		squat_candidate_set,
		queue_stuffing,
		operator_without_consent,
		free_inference,
		jury_mode_redundancy,
		unjudgeable_disagreement,
		self_challenge,
		withhold_reveal,
		uri_only_output,
		model_record_squat,
		curator_zeroing,
		lazy_executor,
		lazy_executor_alone,
		empty_executor,
		copycat_juror,
		|| colluding_jury(1),
		|| colluding_jury(2),
		|| colluding_jury(3),
		wash_trading,
		frivolous_challenger,
	]
}

/// The report: one row per strategy.
pub fn table(outcomes: &[Outcome]) -> String {
	let mut out = String::new();
	out.push_str("| strategy | attacker P&L (AGC) | honest losses (AGC) | protocol account (AGC) | what happened |\n");
	out.push_str("|---|---:|---:|---:|---|\n");
	for o in outcomes {
		out.push_str(&format!(
			"| {} | {} | {} | {} | {} |\n",
			o.name,
			crate::world::agc(o.attacker),
			crate::world::agc(o.honest_loss).trim_start_matches('+'),
			crate::world::agc(o.protocol),
			o.note
		));
	}
	out
}
