//! The ACLs indexed by resource, so that a check looks only at the ACLs that can apply to its
//! resource (as Kafka's `StandardAuthorizerData` walks its sorted set of ACLs instead of
//! scanning them all): the literal ACLs of the name, the literal `*` of the type, and the
//! prefixed ACLs whose name is a prefix of the name.
//!
//! The index is a `BTreeMap` per (resource type, pattern type) from resource name to the ACLs
//! of that name. The prefixes of a name are found by walking that map down from the name: the
//! greatest key not after the bound is either a prefix of the name (it applies; the next one
//! must come strictly before it) or not (then every prefix still to find is a prefix of the
//! longest common prefix of that key and the name, which becomes the bound). Each step either
//! finds a prefix or shortens the bound, so a check costs O(length of the name × log n) map
//! steps however many ACLs there are.

use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};

use super::binding::{AclBinding, WILDCARD_RESOURCE};
use super::types::{PatternType, ResourceType};

/// The ACLs of the cluster by id (the metadata offset of the record that created each).
pub type AclMap = BTreeMap<u64, AclBinding>;

/// The ACLs of one (resource type, pattern type) by resource name, each with its id.
type ByName = BTreeMap<String, Vec<(u64, AclBinding)>>;

/// The ACLs by id and by resource. Equal when the ACLs by id are equal.
#[derive(Clone, Debug, Default)]
pub struct AclIndex {
    by_id: AclMap,
    /// (resource type, pattern type) → resource name → the ACLs of that pattern, by id.
    by_resource: BTreeMap<(ResourceType, PatternType), ByName>,
}

impl PartialEq for AclIndex {
    fn eq(&self, other: &AclIndex) -> bool {
        self.by_id == other.by_id
    }
}

impl Eq for AclIndex {}

impl From<AclMap> for AclIndex {
    fn from(by_id: AclMap) -> AclIndex {
        let mut index = AclIndex::default();
        for (id, acl) in by_id {
            index.insert(id, acl);
        }
        index
    }
}

impl FromIterator<(u64, AclBinding)> for AclIndex {
    fn from_iter<I: IntoIterator<Item = (u64, AclBinding)>>(iter: I) -> AclIndex {
        let mut index = AclIndex::default();
        for (id, acl) in iter {
            index.insert(id, acl);
        }
        index
    }
}

impl AclIndex {
    /// The ACLs by id.
    pub fn by_id(&self) -> &AclMap {
        &self.by_id
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Adds (or replaces) the ACL of `id`.
    pub fn insert(&mut self, id: u64, acl: AclBinding) {
        self.remove(id);
        self.by_resource
            .entry((acl.resource_type, acl.pattern_type))
            .or_default()
            .entry(acl.resource_name.clone())
            .or_default()
            .push((id, acl.clone()));
        self.by_id.insert(id, acl);
    }

    /// Removes the ACL of `id`, returning it if there was one.
    pub fn remove(&mut self, id: u64) -> Option<AclBinding> {
        let acl = self.by_id.remove(&id)?;
        let key = (acl.resource_type, acl.pattern_type);
        if let Some(names) = self.by_resource.get_mut(&key) {
            if let Some(entries) = names.get_mut(&acl.resource_name) {
                entries.retain(|(entry, _)| *entry != id);
                if entries.is_empty() {
                    names.remove(&acl.resource_name);
                }
            }
            if names.is_empty() {
                self.by_resource.remove(&key);
            }
        }
        Some(acl)
    }

    /// Calls `visit` with each ACL that applies to the resource of `resource_type` named
    /// `name` (literal of the name or `*`, prefixed of a prefix of the name), each once, in no
    /// particular order, until it breaks.
    pub fn for_each_applicable(
        &self,
        resource_type: ResourceType,
        name: &str,
        mut visit: impl FnMut(&AclBinding) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut visit_all =
            |entries: &Vec<(u64, AclBinding)>| entries.iter().try_for_each(|(_, acl)| visit(acl));
        if let Some(literal) = self.by_resource.get(&(resource_type, PatternType::Literal)) {
            if let Some(entries) = literal.get(name) {
                visit_all(entries)?;
            }
            if name != WILDCARD_RESOURCE
                && let Some(entries) = literal.get(WILDCARD_RESOURCE)
            {
                visit_all(entries)?;
            }
        }
        let Some(prefixed) = self
            .by_resource
            .get(&(resource_type, PatternType::Prefixed))
        else {
            return ControlFlow::Continue(());
        };
        let mut bound = Bound::Included(name);
        while let Some((key, entries)) = prefixed
            .range::<str, _>((Bound::Unbounded, bound))
            .next_back()
        {
            if name.starts_with(key.as_str()) {
                visit_all(entries)?;
                bound = Bound::Excluded(key.as_str());
            } else {
                bound = Bound::Included(&name[..common_prefix_len(key, name)]);
            }
        }
        ControlFlow::Continue(())
    }

    /// Every ACL of `resource_type`, of any pattern type.
    pub fn of_type(&self, resource_type: ResourceType) -> impl Iterator<Item = &AclBinding> {
        self.by_resource
            .iter()
            .filter(move |((rt, _), _)| *rt == resource_type)
            .flat_map(|(_, names)| names.values().flatten().map(|(_, acl)| acl))
    }
}

/// The length in bytes of the longest common prefix of `a` and `b` that ends on a character
/// boundary of both.
fn common_prefix_len(a: &str, b: &str) -> usize {
    let mut len = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !b.is_char_boundary(len) {
        len -= 1;
    }
    len
}
