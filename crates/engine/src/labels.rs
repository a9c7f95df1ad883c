//! The labels provider-docker puts on every Docker object it creates: who manages it and a
//! hash of the desired state it was created from.

use std::collections::HashMap;

pub const MANAGED_BY: &str = "docker.m.crossplane.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "provider-docker";
pub const UID: &str = "docker.m.crossplane.io/uid";
pub const KIND: &str = "docker.m.crossplane.io/kind";
pub const NAMESPACE: &str = "docker.m.crossplane.io/namespace";
pub const NAME: &str = "docker.m.crossplane.io/name";
pub const SPEC_HASH: &str = "docker.m.crossplane.io/spec-hash";

/// The Kubernetes resource that manages a Docker object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub uid: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Owner {
    /// The labels naming this owner.
    pub fn labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (MANAGED_BY.into(), MANAGED_BY_VALUE.into()),
            (UID.into(), self.uid.clone()),
            (KIND.into(), self.kind.clone()),
            (NAMESPACE.into(), self.namespace.clone()),
            (NAME.into(), self.name.clone()),
        ])
    }
}

/// The labels of a Docker object provider-docker makes for a namespace without a resource
/// owning it (a volume a mount names before it exists): whose it is, and no owner, so that
/// a resource of that namespace may still adopt it.
pub fn claim(namespace: &str) -> HashMap<String, String> {
    HashMap::from([
        (MANAGED_BY.into(), MANAGED_BY_VALUE.into()),
        (NAMESPACE.into(), namespace.to_string()),
    ])
}

/// The labels of a Docker object: the user's own, then ours naming the owner and the hash
/// of the desired state it is created from (ours win).
pub fn object_labels(
    user: &std::collections::BTreeMap<String, String>,
    owner: &Owner,
    hash: &str,
) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> =
        user.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    labels.extend(owner.labels());
    labels.insert(SPEC_HASH.into(), hash.to_string());
    labels
}

/// Whose a Docker object is, judged from its labels.
#[derive(Debug, PartialEq, Eq)]
pub enum Ownership<'a> {
    /// Created by this resource.
    Ours,
    /// Created by provider-docker for another resource (uid given).
    Other(&'a str),
    /// Not created by provider-docker: adopted through external-name.
    Unlabelled,
}

/// Judges `labels` (a Docker object's) against `owner`.
pub fn ownership<'a>(labels: Option<&'a HashMap<String, String>>, owner: &Owner) -> Ownership<'a> {
    match labels.and_then(|l| l.get(UID)) {
        None => Ownership::Unlabelled,
        Some(uid) if *uid == owner.uid => Ownership::Ours,
        Some(uid) => Ownership::Other(uid),
    }
}
