//! Merkle commitments over the items of a batch: one root for N output hashes, a proof of one
//! item in `⌈log₂ N⌉` hashes.
//!
//! A batch's executor commits to (then reveals) the root of the tree whose leaf `i` is item `i`'s
//! output hash; a challenger disputes one item with that leaf and its [`MerkleTree::proof`], which
//! the chain checks with [`verify`] in `O(log N)` hashes, whatever N; two executors whose roots
//! differ find their first differing item with [`first_difference`], one level at a time.
//!
//! The tree:
//! - leaf `i` = `blake2_256(0x00 ‖ i ‖ item_hash)` (`i` as a little-endian `u32`);
//! - node = `blake2_256(0x01 ‖ left ‖ right)`;
//! - a level of odd width promotes its last node to the next level unchanged;
//! - the root = `blake2_256(0x02 ‖ N ‖ top)`, `top` the tree's last node (item 0's leaf when N = 1);
//!   a tree of no items has no root.
//!
//! What makes a proof sound is that the root commits to N, and N fixes the tree's shape: [`verify`]
//! takes N (the chain records it with the batch), follows the path of the index in that shape, and
//! refuses a proof with a hash more or fewer than the path has. Without N in the root, a proof of
//! item 0 of 13 items would pass in a tree of 12 (the two paths have the same shape). The tags and
//! the index in each leaf are defence in depth: no hash of one kind can stand for another.
//!
//! These bytes are a consensus format, shared by the runtime and every agent: the tests pin them.
//!
//! **Bisection.** The chain referees a disagreement between two roots of the same batch one level
//! at a time, never holding a tree: each side opens its root into its `top` (checked with
//! [`root_hash`]), then the node the two sides differ on into its children (checked with
//! [`opens`]), down to a leaf. [`first_difference`] is where that game ends when both play it
//! honestly with their trees. On its way down the game passes by the subtrees where the two
//! trees differ too, to the right of the node it goes into ([`fork`]); started again from the
//! deepest of those, the nearest, it finds the next difference with the nodes above already
//! opened, and so every difference in order ([`MerkleTree::differences`]).

use alloc::vec::Vec;
use codec::Encode;
use primitive_types::H256;

const LEAF_TAG: u8 = 0;
const NODE_TAG: u8 = 1;
const ROOT_TAG: u8 = 2;

/// The leaf of item `index` whose output hash is `item`.
pub fn leaf_hash(index: u32, item: &H256) -> H256 {
	H256(sp_crypto_hashing::blake2_256(&(LEAF_TAG, index, item).encode()))
}

/// The parent of two nodes.
pub fn node_hash(left: &H256, right: &H256) -> H256 {
	H256(sp_crypto_hashing::blake2_256(&(NODE_TAG, left, right).encode()))
}

/// The root of a tree of `len` items whose last node is `top`.
pub fn root_hash(len: u32, top: &H256) -> H256 {
	H256(sp_crypto_hashing::blake2_256(&(ROOT_TAG, len, top).encode()))
}

/// The number of nodes at `level` (0: the leaves) of a tree of `len` items.
pub fn level_width(len: u32, level: u32) -> u32 {
	// ⌈len / 2^level⌉, in 64 bits: `level` may be up to 32.
	let width = 1u64.checked_shl(level).unwrap_or(u64::MAX);
	u64::from(len).div_ceil(width) as u32
}

/// Whether `left` and `right` are the children of the node at `position` of `level` (≥ 1) of a
/// tree of `len` items, whose hash is `parent`: their node hash, or, for a node promoted from
/// the level below, `left` alone (no `right`). A step of the bisection, checked on chain.
pub fn opens(
	len: u32,
	level: u32,
	position: u32,
	parent: &H256,
	left: &H256,
	right: Option<&H256>,
) -> bool {
	if level == 0 || level > depth(len) || position >= level_width(len, level) {
		return false;
	}
	let has_right = u64::from(position) * 2 + 1 < u64::from(level_width(len, level - 1));
	match (has_right, right) {
		(true, Some(right)) => node_hash(left, right) == *parent,
		(false, None) => left == parent,
		_ => false,
	}
}

/// How many hashes a proof of an item of a tree of `len` items has at most: the levels above its
/// leaves (0 for one item, 20 for a million).
pub const fn depth(len: u32) -> u32 {
	match len {
		0 | 1 => 0,
		n => u32::BITS - (n - 1).leading_zeros(),
	}
}

/// A whole tree, every level kept: what an executor builds once for its batch, to answer for any
/// item afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
	/// `levels[0]` the leaves, the last level the root alone.
	levels: Vec<Vec<H256>>,
}

impl MerkleTree {
	/// The tree of these items' output hashes, in order. `None` for no items, or more than
	/// `u32::MAX`.
	pub fn new(items: &[H256]) -> Option<Self> {
		if items.is_empty() || u32::try_from(items.len()).is_err() {
			return None;
		}
		let leaves: Vec<H256> =
			items.iter().enumerate().map(|(i, item)| leaf_hash(i as u32, item)).collect();
		let mut levels = alloc::vec![leaves];
		while let Some(level) = levels.last().filter(|level| level.len() > 1) {
			let next = level
				.chunks(2)
				.map(|pair| match pair {
					[left, right] => node_hash(left, right),
					[promoted] => *promoted,
					_ => unreachable!("chunks(2) yields one or two nodes"),
				})
				.collect();
			levels.push(next);
		}
		Some(Self { levels })
	}

	/// The number of items (at least one).
	pub fn item_count(&self) -> u32 {
		self.levels[0].len() as u32
	}

	/// The root: what the executor commits to.
	pub fn root(&self) -> H256 {
		root_hash(self.item_count(), &self.top())
	}

	/// The tree's last node, which the root commits to with the number of items.
	pub fn top(&self) -> H256 {
		// `new` builds at least one level, and levels down to a single node.
		self.levels[self.levels.len() - 1][0]
	}

	/// The node at `position` of `level` (0: the leaves), if the tree has it.
	pub fn node(&self, level: usize, position: usize) -> Option<H256> {
		self.levels.get(level)?.get(position).copied()
	}

	/// What this tree's side of a bisection shows of its node at `position` of `level` (see
	/// [`opens_in_bisection`]): at the roots' level its top, at level 0 item `position`'s output
	/// hash, between the node's children. `None` where the tree has no such node.
	pub fn opening(&self, items: &[H256], level: u32, position: u32) -> Option<Opening> {
		let count = self.item_count();
		if level > root_level(count) || items.len() != count as usize {
			return None;
		}
		if level == root_level(count) {
			return (position == 0).then(|| (self.top(), None));
		}
		if level == 0 {
			return items.get(position as usize).map(|item| (*item, None));
		}
		let below = level as usize - 1;
		let left = self.node(below, 2 * position as usize)?;
		Some((left, self.node(below, 2 * position as usize + 1)))
	}

	/// The items at which this tree and `other`, of the same number of items, differ, in order:
	/// what a bisection that goes on past each difference finds (empty when the sizes differ).
	pub fn differences(&self, other: &MerkleTree) -> Vec<u32> {
		if self.item_count() != other.item_count() {
			return Vec::new();
		}
		(0..self.item_count())
			.filter(|&i| self.node(0, i as usize) != other.node(0, i as usize))
			.collect()
	}

	/// The proof of item `index`: the sibling of each node on its path to the root, from the
	/// leaf's up, levels where the path's node is promoted having none. `None` past the last item.
	pub fn proof(&self, index: u32) -> Option<Vec<H256>> {
		let mut position = usize::try_from(index).ok()?;
		if position >= self.levels[0].len() {
			return None;
		}
		let mut proof = Vec::with_capacity(self.levels.len() - 1);
		for level in &self.levels[..self.levels.len() - 1] {
			let sibling = position ^ 1;
			if let Some(node) = level.get(sibling) {
				proof.push(*node);
			}
			position /= 2;
		}
		Some(proof)
	}
}

/// The root of these items' output hashes, in order (`None` for no items).
pub fn root_of(items: &[H256]) -> Option<H256> {
	MerkleTree::new(items).map(|tree| tree.root())
}

/// Whether `proof` shows that item `index` of a tree of `len` items, rooted at `root`, has the
/// output hash `item`. The proof must have exactly the hashes the path needs: one more or one
/// fewer is refused, as is an index past the last item.
pub fn verify(root: &H256, len: u32, index: u32, item: &H256, proof: &[H256]) -> bool {
	if index >= len {
		return false;
	}
	let mut node = leaf_hash(index, item);
	let (mut position, mut width) = (index, len);
	let mut siblings = proof.iter();
	while width > 1 {
		if position % 2 == 1 {
			let Some(left) = siblings.next() else { return false };
			node = node_hash(left, &node);
		} else if position + 1 < width {
			let Some(right) = siblings.next() else { return false };
			node = node_hash(&node, right);
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none() && root_hash(len, &node) == *root
}

/// What a side of a bisection shows of its node: the two children it hashes, the second `None`
/// where the node has one child; at the roots' level, the tree's top (no second); at the
/// leaves, the item's output hash (no second).
pub type Opening = (H256, Option<H256>);

/// The level a bisection over `len` items starts at: the roots, one above the tree's top.
pub const fn root_level(len: u32) -> u32 {
	depth(len).saturating_add(1)
}

/// The first item under the node at `position` of `level` (the roots' level included): the item
/// a bisection ended at that node is charged on.
pub fn first_item(len: u32, level: u32, position: u32) -> u32 {
	if level >= root_level(len) {
		return 0;
	}
	u64::from(position)
		.checked_shl(level)
		.map_or(u32::MAX, |item| item.min(u64::from(len.saturating_sub(1))) as u32)
}

/// Whether `opening` opens `node`, a side's node at `position` of `level` in a bisection over
/// `len` items: at the roots' level (see [`root_level`]) into the tree's top
/// (`root_hash(len, top) == node`); at level 0 into the item's output hash
/// (`leaf_hash(position, output) == node`); between, into its children (see [`opens`]).
/// Checked on chain, in at most two hashes.
pub fn opens_in_bisection(
	len: u32,
	level: u32,
	position: u32,
	node: &H256,
	opening: &Opening,
) -> bool {
	let (left, right) = (&opening.0, opening.1.as_ref());
	if len == 0 || level > root_level(len) {
		false
	} else if level == root_level(len) {
		position == 0 && right.is_none() && root_hash(len, left) == *node
	} else if level == 0 {
		position < len && right.is_none() && leaf_hash(position, left) == *node
	} else {
		opens(len, level, position, node, left, right)
	}
}

/// A place in a bisection: the level, the position and each side's node there.
pub type Place = (u32, u32, H256, H256);

/// Where a bisection over `len` items goes once both sides opened their node at `position` of
/// `level` (`a` and `b`, each checked with [`opens_in_bisection`]): the next level, position and
/// each side's node there, into the left children when they differ, else the right ones, past
/// any node promoted from the level below (one child: the node itself). `None` at level 0: the
/// game is over, at item `position`, each side's output hash the first of its opening.
pub fn next_step(len: u32, level: u32, position: u32, a: &Opening, b: &Opening) -> Option<Place> {
	if level == 0 {
		return None;
	}
	let (mut level, mut position, a_node, b_node) = if level >= root_level(len) {
		(depth(len), 0, a.0, b.0)
	} else if a.0 != b.0 {
		(level - 1, position.saturating_mul(2), a.0, b.0)
	} else {
		let (a_right, b_right) = (a.1.unwrap_or(a.0), b.1.unwrap_or(b.0));
		(level - 1, position.saturating_mul(2).saturating_add(1), a_right, b_right)
	};
	(level, position) = past_promoted(len, level, position);
	Some((level, position, a_node, b_node))
}

/// Where a bisection over `len` items that reaches `position` of `level` has something to open:
/// a node promoted from the level below is its only child, so the game goes down past it to the
/// first level where the node has two children, or to the leaf.
pub fn past_promoted(len: u32, mut level: u32, mut position: u32) -> (u32, u32) {
	while level > 0 && u64::from(position) * 2 + 1 >= u64::from(level_width(len, level - 1)) {
		level -= 1;
		position = position.saturating_mul(2);
	}
	(level, position)
}

/// The subtree a bisection step passes by: when both sides opened their node at `position` of
/// `level` (`a` and `b`, each checked with [`opens_in_bisection`]) and the game goes into the
/// left children because they differ, while the right children differ as well, the right
/// child's level and position (past promoted nodes) and each side's node there. Every
/// difference under it comes after every one under the left child; bisected from there, it
/// finds the first of them. `None` at the roots' level and at the leaves (nothing beside the
/// path), and where the right children are the same.
pub fn fork(len: u32, level: u32, position: u32, a: &Opening, b: &Opening) -> Option<Place> {
	if level == 0 || level >= root_level(len) || a.0 == b.0 {
		return None;
	}
	let (a_right, b_right) = (a.1?, b.1?);
	if a_right == b_right {
		return None;
	}
	let (level, position) =
		past_promoted(len, level - 1, position.saturating_mul(2).saturating_add(1));
	Some((level, position, a_right, b_right))
}

/// The first item at which two trees of the same number of items differ, found as the chain's
/// bisection finds it: from the root down, into the left child whenever the left children differ,
/// else the right. `None` when the roots are the same, or the trees' sizes differ.
pub fn first_difference(a: &MerkleTree, b: &MerkleTree) -> Option<u32> {
	if a.item_count() != b.item_count() || a.root() == b.root() {
		return None;
	}
	let mut position = 0usize;
	for level in (0..a.levels.len() - 1).rev() {
		let left = 2 * position;
		position = if a.node(level, left) != b.node(level, left) { left } else { left + 1 };
	}
	Some(position as u32)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::hash_of;

	fn items(n: u32) -> Vec<H256> {
		(0..n).map(|i| hash_of(&i.to_le_bytes())).collect()
	}

	#[test]
	fn every_item_of_every_size_proves_against_its_root() {
		for n in 1..=33 {
			let items = items(n);
			let tree = MerkleTree::new(&items).unwrap();
			assert_eq!(tree.item_count(), n);
			for (i, item) in items.iter().enumerate() {
				let proof = tree.proof(i as u32).unwrap();
				assert!(proof.len() as u32 <= depth(n), "n = {n}, i = {i}");
				assert!(verify(&tree.root(), n, i as u32, item, &proof), "n = {n}, i = {i}");
			}
			assert_eq!(tree.proof(n), None);
		}
	}

	#[test]
	fn a_proof_of_one_item_does_not_pass_for_another_output_index_root_or_size() {
		let items = items(13);
		let tree = MerkleTree::new(&items).unwrap();
		let root = tree.root();
		for i in 0..13u32 {
			let proof = tree.proof(i).unwrap();
			let item = &items[i as usize];
			// Another output at the same index.
			assert!(!verify(&root, 13, i, &hash_of(b"a lie"), &proof));
			// The same output claimed at any other index, even one whose path has the same shape.
			for j in (0..13u32).filter(|j| *j != i) {
				assert!(!verify(&root, 13, j, item, &proof), "{i} as {j}");
			}
			// Another root; another size; an index past the end.
			assert!(!verify(&hash_of(b"another root"), 13, i, item, &proof));
			for len in [12, 14, 16, 26] {
				assert!(!verify(&root, len, i, item, &proof), "{i} in a tree of {len}");
			}
			assert!(!verify(&root, 13, 13 + i, item, &proof));
		}
	}

	#[test]
	fn a_proof_with_a_hash_changed_added_or_missing_is_refused() {
		let items = items(10);
		let tree = MerkleTree::new(&items).unwrap();
		let (root, item) = (tree.root(), items[6]);
		let proof = tree.proof(6).unwrap();
		assert!(verify(&root, 10, 6, &item, &proof));
		for k in 0..proof.len() {
			let mut changed = proof.clone();
			changed[k] = hash_of(b"forged");
			assert!(!verify(&root, 10, 6, &item, &changed));
		}
		let mut longer = proof.clone();
		longer.push(H256::zero());
		assert!(!verify(&root, 10, 6, &item, &longer));
		assert!(!verify(&root, 10, 6, &item, &proof[..proof.len() - 1]));
		assert!(!verify(&root, 10, 6, &item, &[]));
	}

	#[test]
	fn the_hashes_are_the_pinned_byte_layout() {
		let (h, g) = (hash_of(b"item"), hash_of(b"other"));
		let blake = |bytes: &[u8]| H256(sp_crypto_hashing::blake2_256(bytes));
		assert_eq!(
			leaf_hash(7, &h),
			blake(&[&[0u8][..], &7u32.to_le_bytes(), h.as_bytes()].concat())
		);
		assert_eq!(node_hash(&h, &g), blake(&[&[1u8][..], h.as_bytes(), g.as_bytes()].concat()));
		assert_eq!(
			root_hash(5, &h),
			blake(&[&[2u8][..], &5u32.to_le_bytes(), h.as_bytes()].concat())
		);
		// Roots computed by an independent implementation of the same layout.
		let root = |n| format!("{:x}", root_of(&items(n)).unwrap());
		assert_eq!(root(1), "d9f3c43f68c032c6208966fefda1870a6e7cb87d4be660a313b092ba686b2f89");
		assert_eq!(root(5), "8745a7057ef75d8418f5151e4233e521932828178ea9c19c8e76a92e08f4bf0d");
		assert_eq!(root(13), "55decb63a61e246cdaff36f3e2ee57ccd1deb725267da3fda3cce8ee7dc73fcd");
	}

	#[test]
	fn different_items_give_different_roots() {
		let items = items(7);
		let root = root_of(&items).unwrap();
		// Every change of one item, of the order, or of the count changes the root.
		for i in 0..7 {
			let mut changed = items.clone();
			changed[i] = hash_of(b"changed");
			assert_ne!(root_of(&changed), Some(root));
		}
		let mut swapped = items.clone();
		swapped.swap(2, 3);
		assert_ne!(root_of(&swapped), Some(root));
		// Appending a copy of the last item changes the root.
		let mut appended = items.clone();
		appended.push(items[6]);
		assert_ne!(root_of(&appended), Some(root));
		assert_eq!(root_of(&[]), None);
		assert_eq!(root_of(&items[..1]), Some(root_hash(1, &leaf_hash(0, &items[0]))));
	}

	#[test]
	fn bisection_finds_the_first_differing_item() {
		for n in [1u32, 2, 3, 5, 8, 13, 100, 1000] {
			let honest = items(n);
			let honest_tree = MerkleTree::new(&honest).unwrap();
			assert_eq!(first_difference(&honest_tree, &honest_tree), None);
			for lie in [0, n / 3, n / 2, n - 1] {
				let mut lying = honest.clone();
				lying[lie as usize] = hash_of(b"a lie");
				// A second lie further on does not move the first.
				if lie + 7 < n {
					lying[(lie + 7) as usize] = hash_of(b"another lie");
				}
				let lying_tree = MerkleTree::new(&lying).unwrap();
				assert_eq!(first_difference(&honest_tree, &lying_tree), Some(lie), "n = {n}");
				assert_eq!(first_difference(&lying_tree, &honest_tree), Some(lie), "n = {n}");
			}
		}
		let (a, b) = (MerkleTree::new(&items(4)).unwrap(), MerkleTree::new(&items(5)).unwrap());
		assert_eq!(first_difference(&a, &b), None);
	}

	#[test]
	fn depth_is_the_levels_above_the_leaves() {
		assert_eq!([0, 1, 2, 3, 4, 5, 8, 9].map(depth), [0, 0, 1, 2, 2, 3, 3, 4]);
		assert_eq!(depth(1_000_000), 20);
		assert_eq!(depth(u32::MAX), 32);
		for n in [1u32, 2, 3, 7, 64, 65, 1000] {
			let tree = MerkleTree::new(&items(n)).unwrap();
			let longest = (0..n).map(|i| tree.proof(i).unwrap().len() as u32).max().unwrap();
			assert_eq!(longest, depth(n), "n = {n}");
		}
	}

	#[test]
	fn every_node_opens_into_its_children_and_nothing_else() {
		for n in 1..=33u32 {
			let tree = MerkleTree::new(&items(n)).unwrap();
			assert_eq!(root_hash(n, &tree.top()), tree.root());
			assert_eq!(level_width(n, depth(n)), 1);
			for level in 1..=depth(n) {
				let below = level as usize - 1;
				for position in 0..level_width(n, level) {
					let parent = tree.node(level as usize, position as usize).unwrap();
					let left = tree.node(below, 2 * position as usize).unwrap();
					let right = tree.node(below, 2 * position as usize + 1);
					assert!(opens(n, level, position, &parent, &left, right.as_ref()));
					let forged = hash_of(b"forged");
					assert!(!opens(n, level, position, &parent, &forged, right.as_ref()));
					match right {
						Some(right) => {
							assert!(!opens(n, level, position, &parent, &left, Some(&forged)));
							assert!(!opens(n, level, position, &parent, &left, None));
							assert!(!opens(n, level, position, &parent, &right, Some(&left)));
						},
						// A promoted node: a right child made up for it is refused.
						None => assert!(!opens(n, level, position, &parent, &left, Some(&left))),
					}
					// Not at another position, level or size.
					assert!(!opens(
						n,
						level,
						position + level_width(n, level),
						&parent,
						&left,
						right.as_ref()
					));
					assert!(!opens(n, 0, position, &parent, &left, right.as_ref()));
					assert!(!opens(n, depth(n) + 1, 0, &parent, &left, right.as_ref()));
				}
			}
		}
		assert_eq!(level_width(u32::MAX, 32), 1);
		assert_eq!(level_width(u32::MAX, 33), 1);
		assert_eq!(level_width(5, 1), 3);
	}

	#[test]
	fn a_bisection_played_with_openings_alone_ends_at_the_first_difference() {
		// Played as the chain referees it: each side shows the children of the node they differ
		// on, each opening checked; the game descends into the left child when the two sides'
		// left children differ.
		for n in [2u32, 3, 5, 6, 7, 12, 13, 100] {
			let honest = MerkleTree::new(&items(n)).unwrap();
			for lie in [0, n / 2, n - 1] {
				let mut lying = items(n);
				lying[lie as usize] = hash_of(b"a lie");
				let lying = MerkleTree::new(&lying).unwrap();
				let (mut level, mut position) = (depth(n), 0u32);
				while level > 0 {
					let children = |tree: &MerkleTree| {
						let below = level as usize - 1;
						let left = tree.node(below, 2 * position as usize).unwrap();
						(left, tree.node(below, 2 * position as usize + 1))
					};
					let (a, b) = (children(&honest), children(&lying));
					let parents = (
						honest.node(level as usize, position as usize).unwrap(),
						lying.node(level as usize, position as usize).unwrap(),
					);
					assert!(opens(n, level, position, &parents.0, &a.0, a.1.as_ref()));
					assert!(opens(n, level, position, &parents.1, &b.0, b.1.as_ref()));
					position = if a.0 != b.0 { 2 * position } else { 2 * position + 1 };
					level -= 1;
				}
				assert_eq!(Some(position), first_difference(&honest, &lying), "n = {n}");
				assert_eq!(position, lie);
			}
		}
	}

	#[test]
	fn a_bisection_of_openings_checked_at_each_step_ends_at_the_first_difference() {
		// Played through `opens_in_bisection` and `next_step`, as the chain referees it: from
		// the roots, each side's opening checked against its node, to the first differing item
		// and each side's output hash of it.
		for n in [1u32, 2, 3, 5, 6, 7, 12, 13, 100, 257] {
			let honest_items = items(n);
			let honest = MerkleTree::new(&honest_items).unwrap();
			for lie in [0, n / 2, n - 1] {
				let mut lying_items = items(n);
				lying_items[lie as usize] = hash_of(b"a lie");
				if lie + 3 < n {
					lying_items[(lie + 3) as usize] = hash_of(b"a later lie");
				}
				let lying = MerkleTree::new(&lying_items).unwrap();
				let (mut level, mut position) = (root_level(n), 0u32);
				let (mut a_node, mut b_node) = (honest.root(), lying.root());
				let mut steps = 0;
				loop {
					let a = honest.opening(&honest_items, level, position).unwrap();
					let b = lying.opening(&lying_items, level, position).unwrap();
					assert!(opens_in_bisection(n, level, position, &a_node, &a));
					assert!(opens_in_bisection(n, level, position, &b_node, &b));
					// Neither side's opening passes for the other's node.
					assert!(!opens_in_bisection(n, level, position, &a_node, &b));
					steps += 1;
					match next_step(n, level, position, &a, &b) {
						Some(next) => (level, position, a_node, b_node) = next,
						None => {
							assert_eq!((a.0, b.0), (honest_items[lie as usize], hash_of(b"a lie")));
							break;
						},
					}
					assert_ne!(a_node, b_node, "the sides still differ at every step");
				}
				assert_eq!(position, lie, "n = {n}");
				assert_eq!(Some(position), first_difference(&honest, &lying));
				assert!(steps <= root_level(n) + 1, "n = {n}: {steps} steps");
				assert!(first_item(n, level, position) == lie);
			}
		}
	}

	/// Plays a bisection between `a` and `b` (over `a_items` and `b_items`) that goes on past
	/// each difference: each step's openings checked as the chain checks them, the forks it
	/// passes by kept, the deepest taken up again once a leaf is reached. Returns the items
	/// found, in order, and every (level, position) opened.
	fn bisect_every_difference(
		a: &MerkleTree,
		a_items: &[H256],
		b: &MerkleTree,
		b_items: &[H256],
	) -> (Vec<u32>, Vec<(u32, u32)>) {
		let n = a.item_count();
		let (mut found, mut opened, mut forks) = (Vec::new(), Vec::new(), Vec::new());
		if a.root() == b.root() {
			return (found, opened);
		}
		let mut at = (root_level(n), 0u32, a.root(), b.root());
		loop {
			let (level, position, a_node, b_node) = at;
			assert_ne!(a_node, b_node, "the sides differ at every node opened");
			let a_open = a.opening(a_items, level, position).unwrap();
			let b_open = b.opening(b_items, level, position).unwrap();
			assert!(opens_in_bisection(n, level, position, &a_node, &a_open));
			assert!(opens_in_bisection(n, level, position, &b_node, &b_open));
			if level > 0 && level < root_level(n) {
				assert!(
					a_open.1.is_some(),
					"n = {n}: a promoted node opened at ({level}, {position})"
				);
			}
			opened.push((level, position));
			forks.extend(fork(n, level, position, &a_open, &b_open));
			match next_step(n, level, position, &a_open, &b_open) {
				Some(next) => at = next,
				None => {
					found.push(position);
					match forks.pop() {
						Some(resumed) => at = resumed,
						None => break,
					}
				},
			}
		}
		(found, opened)
	}

	#[test]
	fn resuming_at_the_deepest_fork_finds_every_difference_in_order() {
		for n in (1u32..=64).chain([100, 257]) {
			let honest_items = items(n);
			let honest = MerkleTree::new(&honest_items).unwrap();
			for set in 0..12u32 {
				// A pseudo-random set of items, from a few to nearly all; the first and the
				// last in some of them.
				let lies: Vec<u32> = (0..n)
					.filter(|i| hash_of(&(n, set, *i).encode()).0[0] < (set * 21) as u8)
					.collect();
				let mut lying_items = honest_items.clone();
				for &i in &lies {
					lying_items[i as usize] = hash_of(&(b"lie", i).encode());
				}
				let lying = MerkleTree::new(&lying_items).unwrap();
				assert_eq!(honest.differences(&lying), lies);
				let (found, opened) =
					bisect_every_difference(&honest, &honest_items, &lying, &lying_items);
				assert_eq!(found, lies, "n = {n}, set {set}");
				let mut unique = opened.clone();
				unique.sort();
				unique.dedup();
				assert_eq!(unique.len(), opened.len(), "n = {n}: a node opened twice");
				// Each difference costs at most the path below the fork it was found from.
				assert!(opened.len() as u32 <= lies.len() as u32 * (root_level(n) + 1));
				assert_eq!(first_difference(&honest, &lying), lies.first().copied());
			}
		}
	}

	#[test]
	fn a_fork_on_a_promoted_node_resumes_at_its_leaf() {
		// Five items: leaf 4 is promoted to levels 1 and 2. Lies on items 1 and 4: the step at
		// the top node (level 3) goes left, to item 1, past its right child, leaf 4 promoted.
		let items = items(5);
		let honest = MerkleTree::new(&items).unwrap();
		let mut lying_items = items.clone();
		lying_items[1] = hash_of(b"one");
		lying_items[4] = hash_of(b"four");
		let lying = MerkleTree::new(&lying_items).unwrap();
		let top =
			(honest.opening(&items, 3, 0).unwrap(), lying.opening(&lying_items, 3, 0).unwrap());
		assert_eq!(
			fork(5, 3, 0, &top.0, &top.1),
			Some((0, 4, leaf_hash(4, &items[4]), leaf_hash(4, &lying_items[4])))
		);
		// Nothing beside the path at the roots' level, at a leaf, or where the right agree.
		let roots = (
			honest.opening(&items, root_level(5), 0).unwrap(),
			lying.opening(&lying_items, root_level(5), 0).unwrap(),
		);
		assert_eq!(fork(5, root_level(5), 0, &roots.0, &roots.1), None);
		assert_eq!(fork(5, 0, 1, &(items[1], None), &(lying_items[1], None)), None);
		let left =
			(honest.opening(&items, 2, 0).unwrap(), lying.opening(&lying_items, 2, 0).unwrap());
		assert_eq!(fork(5, 2, 0, &left.0, &left.1), None, "items 2 and 3 agree");
		assert_eq!(bisect_every_difference(&honest, &items, &lying, &lying_items).0, vec![1, 4]);
	}

	#[test]
	fn bisection_openings_are_refused_at_another_level_position_or_shape() {
		let items = items(5);
		let tree = MerkleTree::new(&items).unwrap();
		let root = tree.root();
		let top = tree.opening(&items, root_level(5), 0).unwrap();
		assert_eq!(top, (tree.top(), None));
		assert!(opens_in_bisection(5, root_level(5), 0, &root, &top));
		assert!(!opens_in_bisection(5, root_level(5), 1, &root, &top));
		assert!(!opens_in_bisection(5, root_level(5), 0, &root, &(top.0, Some(top.0))));
		assert!(!opens_in_bisection(4, root_level(4), 0, &root, &top));
		assert!(!opens_in_bisection(5, root_level(5) + 1, 0, &root, &top));
		assert!(!opens_in_bisection(0, 0, 0, &root, &top));
		// A leaf opens into its output hash at its own index only.
		let leaf = leaf_hash(3, &items[3]);
		assert!(opens_in_bisection(5, 0, 3, &leaf, &(items[3], None)));
		assert!(!opens_in_bisection(5, 0, 2, &leaf, &(items[3], None)));
		assert!(!opens_in_bisection(5, 0, 3, &leaf, &(items[3], Some(items[3]))));
		assert!(!opens_in_bisection(5, 0, 5, &leaf_hash(5, &items[3]), &(items[3], None)));
		assert_eq!(tree.opening(&items, root_level(5) + 1, 0), None);
		assert_eq!(tree.opening(&items[..4], 0, 0), None);
		// The first item under a node.
		assert_eq!([first_item(5, 4, 0), first_item(5, 2, 1), first_item(5, 0, 4)], [0, 4, 4]);
		assert_eq!(first_item(5, 1, 7), 4);
	}
}
