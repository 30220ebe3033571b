//! Every strategy of the adversary suite against the real runtime: each must lose money, and no
//! honest party may lose any. Prints the table of `docs/economics.md`.
//!
//! Run it alone, with the table: `cargo test --release -p agentchain-economics -- --nocapture`.

use agentchain_economics::strategies;

#[test]
fn every_strategy_loses_money_and_honest_parties_lose_nothing() {
	let outcomes: Vec<_> = strategies::all().into_iter().map(|strategy| strategy()).collect();
	println!("\n{}", strategies::table(&outcomes));
	let mut failures = Vec::new();
	for outcome in &outcomes {
		if outcome.attacker >= 0 {
			failures.push(format!("{}: the attacker made {}", outcome.name, outcome.attacker));
		}
		if outcome.honest_loss != 0 {
			failures.push(format!("{}: honest parties lost {}", outcome.name, outcome.honest_loss));
		}
	}
	assert!(failures.is_empty(), "{}", failures.join("\n"));
}
