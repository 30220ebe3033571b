//! The word-level n-gram language model: tokenizer, counts, backoff and decoding.
//!
//! The model is a trigram model with backoff: the next token is drawn from the continuations of
//! the last two tokens if that pair occurs in the corpus, else from the continuations of the last
//! token, else from the unigram distribution of the whole corpus.
//!
//! Determinism is a design goal, across runs and platforms:
//! - all tables are `BTreeMap`s or sorted vectors, never iterated hash maps;
//! - token ids are assigned in lexicographic order of the token strings, so "smallest id" and
//!   "lexicographically smallest token" are the same thing;
//! - sampling uses a [`SplitMix64`] generator seeded from the request, and the weights
//!   `count^(1/T)` are computed with [`det_ln`] and [`det_exp`], which use only IEEE-754 basic
//!   operations (correctly rounded everywhere) instead of the platform's `libm`.

use std::{
	collections::{BTreeMap, BTreeSet},
	fmt,
};

/// Punctuation characters that become tokens of their own.
pub const PUNCTUATION: [char; 6] = ['.', ',', ';', ':', '!', '?'];

/// Whether `token` is a single punctuation token (one of [`PUNCTUATION`]).
pub fn is_punctuation(token: &str) -> bool {
	let mut chars = token.chars();
	matches!((chars.next(), chars.next()), (Some(c), None) if PUNCTUATION.contains(&c))
}

fn is_word_char(c: char) -> bool {
	c.is_alphanumeric() || c == '\'' || c == '-'
}

/// Splits text into lowercase word tokens and punctuation tokens.
///
/// A word is a maximal run of alphanumeric characters, apostrophes and hyphens, lowercased, with
/// leading and trailing apostrophes and hyphens removed (so `'quoted'` gives `quoted` while
/// `don't` and `off-chain` stay whole). The typographic apostrophe `’` counts as `'`. Each of
/// [`PUNCTUATION`] is a token of its own; every other character only separates words.
pub fn tokenize(text: &str) -> Vec<String> {
	fn flush(word: &mut String, tokens: &mut Vec<String>) {
		let trimmed = word.trim_matches(|c| c == '\'' || c == '-');
		if !trimmed.is_empty() {
			tokens.push(trimmed.to_owned());
		}
		word.clear();
	}

	let mut tokens = Vec::new();
	let mut word = String::new();
	for c in text.chars() {
		let c = if c == '\u{2019}' { '\'' } else { c };
		if is_word_char(c) {
			// Keep only word characters of the lowercase form, so that tokenising the
			// detokenised output gives back the same tokens.
			word.extend(c.to_lowercase().filter(|&l| is_word_char(l)));
		} else {
			flush(&mut word, &mut tokens);
			if PUNCTUATION.contains(&c) {
				tokens.push(c.to_string());
			}
		}
	}
	flush(&mut word, &mut tokens);
	tokens
}

/// Joins tokens with single spaces, attaching punctuation to the previous token.
pub fn detokenize<S: AsRef<str>>(tokens: &[S]) -> String {
	let mut out = String::new();
	for token in tokens {
		let token = token.as_ref();
		if !out.is_empty() && !is_punctuation(token) {
			out.push(' ');
		}
		out.push_str(token);
	}
	out
}

/// The SplitMix64 pseudo-random generator (Steele, Lea and Flood), used for seeded sampling.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
	state: u64,
}

impl SplitMix64 {
	/// A generator whose sequence is fully determined by `seed`.
	pub fn new(seed: u64) -> Self {
		Self { state: seed }
	}

	/// The next 64 random bits.
	pub fn next_u64(&mut self) -> u64 {
		self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.state;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	/// A uniform float in `[0, 1)` built from the top 53 bits of [`Self::next_u64`].
	pub fn next_f64(&mut self) -> f64 {
		(self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
	}
}

/// Natural logarithm of a positive, normal, finite `x`, using only basic IEEE-754 operations.
///
/// `x = m · 2^e` with `m ∈ [1, 2)`, and `ln m = 2·atanh(s)` with `s = (m-1)/(m+1) ∈ [0, 1/3)`,
/// summed as a series. Accurate to a few ulps, and bit-identical on every IEEE-754 platform.
pub fn det_ln(x: f64) -> f64 {
	debug_assert!(x.is_normal() && x > 0.0, "det_ln needs a positive normal number");
	let bits = x.to_bits();
	let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
	let mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
	let s = (mantissa - 1.0) / (mantissa + 1.0);
	let s2 = s * s;
	let mut term = s;
	let mut sum = 0.0;
	let mut denominator = 1.0;
	for _ in 0..30 {
		sum += term / denominator;
		term *= s2;
		denominator += 2.0;
	}
	2.0 * sum + exponent as f64 * std::f64::consts::LN_2
}

/// `e^y` using only basic IEEE-754 operations; returns 0 below `-700` (and saturates above 700).
///
/// `y = k·ln 2 + r` with `|r| ≤ ln 2 / 2`; `e^r` is a Taylor series and `2^k` is built from bits.
pub fn det_exp(y: f64) -> f64 {
	if y.is_nan() {
		return f64::NAN;
	}
	if y < -700.0 {
		return 0.0;
	}
	let y = y.min(700.0);
	let k = (y / std::f64::consts::LN_2).round();
	let r = y - k * std::f64::consts::LN_2;
	let mut term = 1.0;
	let mut sum = 1.0;
	for i in 1..=25 {
		term *= r / f64::from(i);
		sum += term;
	}
	// |k| ≤ 1010 here, so 2^k is a normal number.
	let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
	sum * scale
}

/// How the next token is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decoding {
	/// The most frequent continuation; ties go to the lexicographically smallest token.
	Greedy,
	/// A continuation drawn with probability proportional to `count^(1/temperature)`.
	Sample {
		/// Positive and finite.
		temperature: f64,
		/// Seed of the [`SplitMix64`] generator.
		seed: u64,
	},
}

impl Decoding {
	/// Greedy for `temperature == 0`, seeded sampling for a positive finite temperature.
	///
	/// Returns `None` for a negative, infinite or NaN temperature.
	pub fn new(temperature: f64, seed: u64) -> Option<Self> {
		if temperature == 0.0 {
			Some(Self::Greedy)
		} else if temperature.is_finite() && temperature > 0.0 {
			Some(Self::Sample { temperature, seed })
		} else {
			None
		}
	}
}

/// Which table a continuation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
	/// Continuations of the last two tokens.
	Trigram,
	/// Continuations of the last token.
	Bigram,
	/// All tokens of the corpus.
	Unigram,
}

/// Counts of the tokens that follow one context, by token id (ascending).
#[derive(Clone, Debug)]
struct Distribution {
	entries: Vec<(u32, u64)>,
	/// The most frequent token; the smallest id among equals.
	best: u32,
	max_count: u64,
}

impl Distribution {
	fn from_counts(counts: BTreeMap<u32, u64>) -> Self {
		let mut best = 0;
		let mut max_count = 0;
		for (&id, &count) in &counts {
			// Strictly greater: ids ascend, so the first maximum is the smallest token.
			if count > max_count {
				best = id;
				max_count = count;
			}
		}
		Self { entries: counts.into_iter().collect(), best, max_count }
	}

	fn sample(&self, temperature: f64, rng: &mut SplitMix64) -> u32 {
		let ln_max = det_ln(self.max_count as f64);
		let weights: Vec<f64> = self
			.entries
			.iter()
			.map(|&(_, count)| det_exp((det_ln(count as f64) - ln_max) / temperature))
			.collect();
		let total: f64 = weights.iter().sum();
		let target = rng.next_f64() * total;
		let mut cumulative = 0.0;
		let mut chosen = self.best;
		for (&(id, _), &weight) in self.entries.iter().zip(&weights) {
			if weight > 0.0 {
				chosen = id;
				cumulative += weight;
				if target < cumulative {
					break;
				}
			}
		}
		chosen
	}
}

/// The corpus had no tokens, so there is nothing to generate from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmptyCorpus;

impl fmt::Display for EmptyCorpus {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("the corpus contains no tokens")
	}
}

impl std::error::Error for EmptyCorpus {}

/// A trigram model with backoff to bigrams and unigrams, built from a text corpus.
#[derive(Clone, Debug)]
pub struct NgramModel {
	/// Every distinct token, sorted; a token's id is its index.
	vocab: Vec<String>,
	ids: BTreeMap<String, u32>,
	unigram: Distribution,
	bigram: BTreeMap<u32, Distribution>,
	trigram: BTreeMap<(u32, u32), Distribution>,
	corpus_tokens: usize,
}

impl NgramModel {
	/// Builds the model from `text`, read as one continuous token sequence.
	pub fn from_text(text: &str) -> Result<Self, EmptyCorpus> {
		let tokens = tokenize(text);
		if tokens.is_empty() {
			return Err(EmptyCorpus);
		}
		let vocab: Vec<String> =
			tokens.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
		let ids: BTreeMap<String, u32> =
			vocab.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
		let sequence: Vec<u32> = tokens.iter().map(|t| ids[t]).collect();

		let mut unigram = BTreeMap::new();
		let mut bigram: BTreeMap<u32, BTreeMap<u32, u64>> = BTreeMap::new();
		let mut trigram: BTreeMap<(u32, u32), BTreeMap<u32, u64>> = BTreeMap::new();
		for (i, &id) in sequence.iter().enumerate() {
			*unigram.entry(id).or_insert(0) += 1;
			if i >= 1 {
				*bigram.entry(sequence[i - 1]).or_default().entry(id).or_insert(0) += 1;
			}
			if i >= 2 {
				*trigram
					.entry((sequence[i - 2], sequence[i - 1]))
					.or_default()
					.entry(id)
					.or_insert(0) += 1;
			}
		}

		Ok(Self {
			vocab,
			ids,
			unigram: Distribution::from_counts(unigram),
			bigram: bigram.into_iter().map(|(k, v)| (k, Distribution::from_counts(v))).collect(),
			trigram: trigram.into_iter().map(|(k, v)| (k, Distribution::from_counts(v))).collect(),
			corpus_tokens: sequence.len(),
		})
	}

	/// The distinct tokens of the corpus, sorted.
	pub fn vocabulary(&self) -> &[String] {
		&self.vocab
	}

	/// The number of tokens in the corpus.
	pub fn corpus_tokens(&self) -> usize {
		self.corpus_tokens
	}

	fn distribution(&self, previous: Option<u32>, last: Option<u32>) -> (Order, &Distribution) {
		if let (Some(a), Some(b)) = (previous, last) {
			if let Some(dist) = self.trigram.get(&(a, b)) {
				return (Order::Trigram, dist);
			}
		}
		if let Some(dist) = last.and_then(|b| self.bigram.get(&b)) {
			return (Order::Bigram, dist);
		}
		(Order::Unigram, &self.unigram)
	}

	/// The context ids of the last two tokens of `context` (`None` when absent or unknown).
	fn context_ids<S: AsRef<str>>(&self, context: &[S]) -> (Option<u32>, Option<u32>) {
		let id = |i: usize| context.get(i).and_then(|t| self.ids.get(t.as_ref()).copied());
		match context.len() {
			0 => (None, None),
			1 => (None, id(0)),
			n => (id(n - 2), id(n - 1)),
		}
	}

	/// The table used after `context` and its continuations with their counts, in token order.
	pub fn continuations<S: AsRef<str>>(&self, context: &[S]) -> (Order, Vec<(&str, u64)>) {
		let (previous, last) = self.context_ids(context);
		let (order, dist) = self.distribution(previous, last);
		let entries = dist
			.entries
			.iter()
			.map(|&(id, count)| (self.vocab[id as usize].as_str(), count));
		(order, entries.collect())
	}

	/// Generates exactly `max_tokens` tokens continuing the tokens `prompt`.
	pub fn generate<S: AsRef<str>>(
		&self,
		prompt: &[S],
		max_tokens: usize,
		decoding: Decoding,
	) -> Vec<String> {
		let (mut previous, mut last) = self.context_ids(prompt);
		let mut rng = match decoding {
			Decoding::Greedy => None,
			Decoding::Sample { seed, .. } => Some(SplitMix64::new(seed)),
		};
		let mut out = Vec::with_capacity(max_tokens);
		for _ in 0..max_tokens {
			let (_, dist) = self.distribution(previous, last);
			let next = match (decoding, rng.as_mut()) {
				(Decoding::Sample { temperature, .. }, Some(rng)) => dist.sample(temperature, rng),
				_ => dist.best,
			};
			out.push(self.vocab[next as usize].clone());
			previous = last;
			last = Some(next);
		}
		out
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn model(text: &str) -> NgramModel {
		NgramModel::from_text(text).expect("non-empty corpus")
	}

	fn greedy(model: &NgramModel, prompt: &str, max_tokens: usize) -> String {
		detokenize(&model.generate(&tokenize(prompt), max_tokens, Decoding::Greedy))
	}

	fn sampled(model: &NgramModel, prompt: &str, n: usize, temperature: f64, seed: u64) -> String {
		let decoding = Decoding::Sample { temperature, seed };
		detokenize(&model.generate(&tokenize(prompt), n, decoding))
	}

	#[test]
	fn tokenize_lowercases_and_splits_punctuation() {
		assert_eq!(
			tokenize("The Agent's off-chain worker, (twice) said: \"Hello!\" -- 'OK'? ’Tis 42."),
			[
				"the",
				"agent's",
				"off-chain",
				"worker",
				",",
				"twice",
				"said",
				":",
				"hello",
				"!",
				"ok",
				"?",
				"tis",
				"42",
				"."
			]
		);
		assert!(tokenize("  \n\t () \"\" -- ").is_empty());
	}

	#[test]
	fn detokenize_attaches_punctuation_and_round_trips() {
		let tokens = tokenize("Rivers rise; markets fall, ledgers stay. Why? Rain!");
		let text = detokenize(&tokens);
		assert_eq!(text, "rivers rise; markets fall, ledgers stay. why? rain!");
		assert_eq!(tokenize(&text), tokens);
		assert_eq!(detokenize(&[".", "a", ",", ","]), ". a,,");
		assert_eq!(detokenize::<&str>(&[]), "");
	}

	#[test]
	fn empty_corpus_is_rejected() {
		assert_eq!(NgramModel::from_text(" -- \"\" ").unwrap_err(), EmptyCorpus);
	}

	#[test]
	fn greedy_picks_most_frequent_continuation() {
		// After "a": zebra 2, cat 1; the more frequent wins although "cat" sorts first.
		let m = model("a zebra runs. a zebra runs. a cat sleeps.");
		assert_eq!(greedy(&m, "a", 3), "zebra runs.");
		// Trigram beats bigram: after "cat" the bigram says "sleeps", but the trigram
		// (x, cat) says "dances" and "dances" is what follows.
		let m = model("cat sleeps. cat sleeps. x cat dances. cat sleeps.");
		assert_eq!(greedy(&m, "x cat", 2), "dances.");
		assert_eq!(greedy(&m, "y cat", 2), "sleeps.");
	}

	#[test]
	fn greedy_ties_go_to_the_smallest_token() {
		// After "the cat": sat 1, ran 1 → "ran"; after ". the": cat 1, dog 1 → "cat".
		let m = model("the cat sat. the cat ran. the dog sat.");
		assert_eq!(greedy(&m, "the", 8), "cat ran. the cat ran. the");
		// Unigram ties: b, c, a once each → "a".
		let m = model("b c a");
		assert_eq!(m.continuations(&["zzz"]), (Order::Unigram, vec![("a", 1), ("b", 1), ("c", 1)]));
		assert_eq!(greedy(&m, "zzz", 1), "a");
	}

	#[test]
	fn unseen_context_backs_off_to_bigram_then_unigram() {
		let m = model("the cat sat. the cat ran. the dog and the end.");
		assert_eq!(m.continuations(&["the", "cat"]).0, Order::Trigram);
		// (dog, cat) never occurs, "cat" does: bigram.
		assert_eq!(m.continuations(&["dog", "cat"]), (Order::Bigram, vec![("ran", 1), ("sat", 1)]));
		// "unicorn" is not in the corpus at all: unigram, whose most frequent token is "the".
		let (order, unigram) = m.continuations(&["the", "unicorn"]);
		assert_eq!(order, Order::Unigram);
		assert_eq!(unigram.iter().map(|(_, c)| c).sum::<u64>(), m.corpus_tokens() as u64);
		assert_eq!(greedy(&m, "a purple unicorn", 2), "the cat");
		// The last corpus token has no successor either.
		let m = model("one two three");
		assert_eq!(m.continuations(&["two", "three"]).0, Order::Unigram);
	}

	#[test]
	fn empty_prompt_starts_from_the_unigram_distribution() {
		// "the" is the most frequent token; then "cat" follows "the" twice, "dog" once.
		let m = model("the cat sat and the cat ran and the dog sat.");
		assert_eq!(m.continuations::<&str>(&[]).0, Order::Unigram);
		assert_eq!(greedy(&m, "", 3), "the cat ran");
		// A prompt of unknown words behaves like an empty one.
		assert_eq!(greedy(&m, "zebra unicorn", 3), "the cat ran");
	}

	#[test]
	fn generation_is_deterministic_across_independently_built_models() {
		let a = model(crate::DEFAULT_CORPUS);
		let b = model(crate::DEFAULT_CORPUS);
		for prompt in ["", "The river", "agents and ledgers", "completely unseen words"] {
			assert_eq!(greedy(&a, prompt, 64), greedy(&b, prompt, 64));
			for seed in [0, 1, u64::MAX] {
				for temperature in [0.3, 1.0, 2.0] {
					assert_eq!(
						sampled(&a, prompt, 64, temperature, seed),
						sampled(&b, prompt, 64, temperature, seed)
					);
				}
			}
		}
	}

	#[test]
	fn seeded_sampling_is_reproducible_and_seed_sensitive() {
		let m = model(crate::DEFAULT_CORPUS);
		let first = sampled(&m, "the market", 32, 1.0, 7);
		assert_eq!(first, sampled(&m, "the market", 32, 1.0, 7));
		let distinct: BTreeSet<String> =
			(0..8).map(|seed| sampled(&m, "the market", 32, 1.0, seed)).collect();
		assert!(distinct.len() >= 6, "only {} distinct samples over 8 seeds", distinct.len());
	}

	#[test]
	fn sampling_follows_counts_raised_to_one_over_temperature() {
		// After "a": x 3, y 1.
		let m = model("a x. a x. a x. a y.");
		let frequency_of_x = |temperature: f64| {
			let runs = 4000;
			let hits = (0..runs)
				.filter(|&seed| {
					m.generate(&["a"], 1, Decoding::Sample { temperature, seed }) == ["x"]
				})
				.count();
			hits as f64 / runs as f64
		};
		let expected = |t: f64| 3f64.powf(1.0 / t) / (3f64.powf(1.0 / t) + 1.0);
		for temperature in [0.5, 1.0, 2.0] {
			let observed = frequency_of_x(temperature);
			assert!(
				(observed - expected(temperature)).abs() < 0.03,
				"T={temperature}: observed {observed}, expected {}",
				expected(temperature)
			);
		}
		// Sampling never leaves the support of the distribution.
		for seed in 0..200 {
			let next = m.generate(&["a"], 1, Decoding::Sample { temperature: 2.0, seed });
			assert!(next == ["x"] || next == ["y"]);
		}
	}

	#[test]
	fn max_tokens_is_respected() {
		let m = model(crate::DEFAULT_CORPUS);
		for n in [0, 1, 17, 300] {
			assert_eq!(m.generate(&["the"], n, Decoding::Greedy).len(), n);
			assert_eq!(
				m.generate(&["the"], n, Decoding::Sample { temperature: 1.5, seed: 3 }).len(),
				n
			);
		}
	}

	#[test]
	fn decoding_from_temperature() {
		assert_eq!(Decoding::new(0.0, 9), Some(Decoding::Greedy));
		assert_eq!(Decoding::new(0.7, 9), Some(Decoding::Sample { temperature: 0.7, seed: 9 }));
		assert_eq!(Decoding::new(-0.1, 9), None);
		assert_eq!(Decoding::new(f64::NAN, 9), None);
		assert_eq!(Decoding::new(f64::INFINITY, 9), None);
	}

	#[test]
	fn splitmix64_matches_the_reference_sequence() {
		let mut rng = SplitMix64::new(0);
		assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
		assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
		assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
		let x = SplitMix64::new(42).next_f64();
		assert!((0.0..1.0).contains(&x));
	}

	#[test]
	fn deterministic_ln_and_exp_are_accurate() {
		for x in [1.0, 1.5, 2.0, 3.0, 10.0, 1234.0, 1e6, 0.25] {
			let (ours, std) = (det_ln(x), x.ln());
			assert!((ours - std).abs() <= 1e-14 * std.abs().max(1.0), "ln {x}: {ours} vs {std}");
		}
		for y in [0.0, -0.1, -1.0, -5.5, -40.0, -300.0, 2.0] {
			let (ours, std) = (det_exp(y), y.exp());
			assert!((ours - std).abs() <= 1e-12 * std, "exp {y}: {ours} vs {std}");
		}
		assert_eq!(det_exp(0.0), 1.0);
		assert_eq!(det_exp(-1000.0), 0.0);
	}
}
