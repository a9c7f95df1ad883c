//! The tenancy policy's checks on fixtures: what each refuses and what it lets through.

use super::*;

fn container(yaml: &str) -> ContainerParameters {
    serde_yaml_ng::from_str(yaml).expect("fixture parses")
}

#[test]
fn the_default_policy_refuses_every_way_onto_the_host() {
    let p = container(
        "image: x\nnetworkMode: host\npidMode: host\nipcMode: host\nsecurity: {privileged: true, capabilities: {add: [SYS_ADMIN]}}\nmounts: [{mountPath: /h, hostPath: {path: /etc}}]\ndevices: [{hostPath: /dev/fuse}]",
    );
    let refusals = container_violations(&p, &TenancyPolicy::default(), "C");
    for field in [
        "privileged",
        "networkMode",
        "pidMode",
        "ipcMode",
        "hostPath",
        "capabilities",
        "devices",
    ] {
        assert!(
            refusals.iter().any(|r| r.contains(field)),
            "{field} not refused: {refusals:?}"
        );
    }
}

#[test]
fn host_paths_are_allowed_by_whole_components_only() {
    let policy = TenancyPolicy {
        allowed_host_paths: vec!["/srv/app".into()],
        ..Default::default()
    };
    let with = |path: &str| {
        container(&format!(
            "image: x\nmounts: [{{mountPath: /h, hostPath: {{path: {path}}}}}]"
        ))
    };
    assert!(container_violations(&with("/srv/app/data"), &policy, "C").is_empty());
    assert!(container_violations(&with("/srv/app"), &policy, "C").is_empty());
    assert_eq!(
        container_violations(&with("/srv/application"), &policy, "C").len(),
        1
    );
    assert_eq!(
        container_violations(&with("/srv/app/../../etc"), &policy, "C").len(),
        1
    );
}

#[test]
fn capabilities_may_be_dropped_freely_and_added_only_when_allowed() {
    let policy = TenancyPolicy {
        allowed_capabilities: vec!["NET_BIND_SERVICE".into()],
        ..Default::default()
    };
    let p =
        container("image: x\nsecurity: {capabilities: {drop: [ALL], add: [CAP_NET_BIND_SERVICE]}}");
    assert!(container_violations(&p, &policy, "C").is_empty());
    let p = container("image: x\nsecurity: {capabilities: {add: [NET_ADMIN]}}");
    assert_eq!(container_violations(&p, &policy, "C").len(), 1);
}

#[test]
fn a_bind_device_volume_is_a_host_path() {
    let v: VolumeParameters =
        serde_yaml_ng::from_str("driverOpts: {type: none, o: bind, device: /etc}").unwrap();
    assert_eq!(
        volume_violations(&v, &TenancyPolicy::default(), "C").len(),
        1
    );
    let policy = TenancyPolicy {
        allowed_host_paths: vec!["/etc".into()],
        ..Default::default()
    };
    assert!(volume_violations(&v, &policy, "C").is_empty());
}

fn facts(containers: &[(&str, Holder)], volumes: &[(&str, Holder, Vec<Holder>)]) -> Facts {
    Facts {
        containers: containers
            .iter()
            .map(|(n, h)| (n.to_string(), h.clone()))
            .collect(),
        volumes: volumes
            .iter()
            .map(|(n, h, users)| {
                let facts = VolumeFacts {
                    holder: h.clone(),
                    mountpoint: Some(format!("/var/lib/docker/volumes/{n}/_data")),
                    users: users.clone(),
                };
                (n.to_string(), facts)
            })
            .collect(),
        networks: vec![],
    }
}

fn ns(n: &str) -> Holder {
    Holder::Namespace(n.into())
}

#[test]
fn a_container_mode_may_join_only_a_container_of_the_same_namespace() {
    let p = container(
        "image: x\nnetworkMode: container:mine\npidMode: container:theirs\nipcMode: container:loose",
    );
    let known = facts(
        &[
            ("mine", ns("team-a")),
            ("theirs", ns("team-b")),
            ("loose", Holder::Unmanaged),
        ],
        &[],
    );
    let sharing = sharing_violations(&p, &known, &TenancyPolicy::default(), "C", "team-a");
    assert_eq!(sharing.refusals.len(), 2, "{sharing:?}");
    assert!(sharing.refusals[0].starts_with(
        "spec.forProvider.pidMode: container:theirs is a container of another namespace"
    ));
    assert!(sharing.refusals[0].contains("spec.policy.allowHostPID"));
    assert!(sharing.refusals[1].starts_with(
        "spec.forProvider.ipcMode: container:loose is not a container provider-docker manages"
    ));
    assert!(sharing.missing.is_empty());
    // A config trusted with the host's namespaces may join any container's.
    let trusted = TenancyPolicy {
        allow_host_pid: true,
        allow_host_ipc: true,
        ..Default::default()
    };
    assert_eq!(
        sharing_violations(&p, &known, &trusted, "C", "team-a"),
        Sharing::default()
    );
}

#[test]
fn a_container_mode_naming_no_container_yet_waits() {
    let p = container("image: x\npidMode: container:later");
    let sharing = sharing_violations(&p, &Facts::default(), &TenancyPolicy::default(), "C", "a");
    assert!(sharing.refusals.is_empty());
    assert_eq!(sharing.missing.len(), 1);
    assert!(
        sharing.missing[0].contains("container later"),
        "{sharing:?}"
    );
}

#[test]
fn a_named_volume_may_not_be_another_namespaces() {
    let p = container(
        "image: x\nmounts: [{mountPath: /a, volume: {name: mine}}, {mountPath: /b, volume: {name: theirs}}, {mountPath: /c, volume: {name: borrowed}}, {mountPath: /d, volume: {name: fresh}}, {mountPath: /e, volume: {name: loose}}, {mountPath: /f, volume: {name: unused}}, {mountPath: /g, volume: {name: kept}}]",
    );
    let known = facts(
        &[],
        &[
            ("mine", ns("team-a"), vec![ns("team-a")]),
            ("theirs", ns("team-b"), vec![]),
            ("borrowed", Holder::Unmanaged, vec![ns("team-b")]),
            ("fresh", Holder::Missing, vec![]),
            ("loose", Holder::Unmanaged, vec![Holder::Unmanaged]),
            ("unused", Holder::Unmanaged, vec![]),
            ("kept", Holder::Unmanaged, vec![ns("team-a")]),
        ],
    );
    let sharing = sharing_violations(&p, &known, &TenancyPolicy::default(), "C", "team-a");
    assert_eq!(sharing.refusals.len(), 4, "{sharing:?}");
    assert!(sharing.refusals[0].starts_with(
        "spec.forProvider.mounts[1].volume.name: volume theirs is a volume of another namespace"
    ));
    assert!(sharing.refusals[1].starts_with("spec.forProvider.mounts[2].volume.name: volume borrowed is in use by a container of another namespace"));
    // Made outside provider-docker: anyone's data, whether or not something mounts it.
    assert!(sharing.refusals[2].starts_with("spec.forProvider.mounts[4].volume.name: volume loose is not a volume provider-docker manages"));
    assert!(sharing.refusals[3].starts_with("spec.forProvider.mounts[5].volume.name: volume unused is not a volume provider-docker manages"));
    // A config that lets the tenant bind the volumes' directory lets it name them.
    let binds = TenancyPolicy {
        allowed_host_paths: vec!["/var/lib/docker/volumes".into()],
        ..Default::default()
    };
    assert!(
        sharing_violations(&p, &known, &binds, "C", "team-a")
            .refusals
            .is_empty()
    );
}

#[test]
fn a_network_may_be_shared_or_the_namespaces_but_not_another_namespaces_nor_the_host() {
    let p = container(
        "image: x\nnetworks: [{name: bridge}, {name: mine}, {name: theirs}, {name: host}, {name: 'container:victim'}, {networkRef: {name: adopted}}, {name: later}]",
    );
    let resolved = BTreeMap::from([(5, "host".to_string())]);
    let names = attached_networks(&p, &resolved);
    assert_eq!(names.len(), 7);
    assert_eq!(names[5], ("networks[5]".to_string(), "host".to_string()));
    let holders = [
        Holder::Unmanaged,
        ns("team-a"),
        ns("team-b"),
        Holder::Unmanaged,
        Holder::Unmanaged,
        Holder::Unmanaged,
        Holder::Missing,
    ];
    let known = Facts {
        networks: names
            .iter()
            .zip(holders)
            .map(|((field, name), holder)| NetworkFacts {
                field: field.clone(),
                name: name.clone(),
                holder,
            })
            .collect(),
        ..Default::default()
    };
    let sharing = sharing_violations(&p, &known, &TenancyPolicy::default(), "C", "team-a");
    let fields: Vec<&str> = sharing
        .refusals
        .iter()
        .map(|r| r.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        fields,
        [
            "spec.forProvider.networks[2]",
            "spec.forProvider.networks[3]",
            "spec.forProvider.networks[4]",
            "spec.forProvider.networks[5]"
        ],
        "{sharing:?}"
    );
    assert!(sharing.refusals[0].contains("network theirs is a network of another namespace"));
    assert!(sharing.refusals[1].contains("spec.policy.allowHostNetwork"));
    assert!(sharing.refusals[2].contains("not a Docker network name"));
    // A config that allows the host network allows it by any name, and nothing else.
    let trusted = TenancyPolicy {
        allow_host_network: true,
        ..Default::default()
    };
    assert_eq!(
        sharing_violations(&p, &known, &trusted, "C", "team-a")
            .refusals
            .len(),
        2
    );
}

#[test]
fn only_provider_docker_labels_name_a_namespace() {
    let map = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>()
    };
    let managed = map(&[
        (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
        (labels::NAMESPACE, "team-a"),
    ]);
    assert_eq!(Holder::of(Some(&managed)), ns("team-a"));
    let forged = map(&[(labels::NAMESPACE, "team-a")]);
    assert_eq!(Holder::of(Some(&forged)), Holder::Unmanaged);
    assert_eq!(Holder::of(None), Holder::Unmanaged);
}

#[test]
fn adopting_needs_the_namespace_or_the_config_to_allow_it() {
    let claimed = |namespace: &str| {
        HashMap::from([
            (
                labels::MANAGED_BY.to_string(),
                labels::MANAGED_BY_VALUE.to_string(),
            ),
            (labels::NAMESPACE.to_string(), namespace.to_string()),
        ])
    };
    let strict = TenancyPolicy::default();
    let open = TenancyPolicy {
        allow_adoption: true,
        ..Default::default()
    };
    let refused = |policy: &TenancyPolicy, tags: Option<&HashMap<String, String>>, dir| {
        adoption_refused(policy, "C", tags, "team-a", "container x on main", dir)
    };
    // Made outside provider-docker: only where the config allows adoption.
    let message = refused(&strict, None, None).expect("refused by default");
    assert!(
        message.contains("container x on main") && message.contains("spec.policy.allowAdoption"),
        "{message}"
    );
    assert_eq!(refused(&open, None, None), None);
    // This namespace's objects always; another namespace's never, whatever the config.
    assert_eq!(refused(&strict, Some(&claimed("team-a")), None), None);
    let message = refused(&open, Some(&claimed("team-b")), None).expect("never adopted");
    assert!(message.contains("another namespace"), "{message}");
    // A volume's directory may be admitted by allowedHostPaths instead.
    let dir = Some("/srv/app/volumes/x/_data");
    let paths = TenancyPolicy {
        allowed_host_paths: vec!["/srv/app".into()],
        ..Default::default()
    };
    assert_eq!(refused(&paths, None, dir), None);
    let message = refused(&strict, None, dir).expect("no path admitted");
    assert!(message.contains("allowedHostPaths"), "{message}");
}
