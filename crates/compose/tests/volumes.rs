//! Mount syntaxes: short (`src:dst:ro,z`: bind paths, named and anonymous volumes) and
//! long (bind, volume, tmpfs, image options), top-level volumes, and their errors.

mod common;

use common::{assert_error, loaded, service, web};
use provider_docker_compose::{
    BindMount, BindOptions, LoadInput, Mount, Propagation, Recursive, SeLinux, TmpfsMount,
    TmpfsOptions, VolumeMount, VolumeOptions, load,
};

fn mounts(fields: &str) -> Vec<Mount> {
    let yaml = format!("{}volumes:\n  data: {{}}\n", web(fields));
    service(&yaml, "web").volumes
}

fn bind(source: &str, target: &str, read_only: bool, bind: BindOptions) -> Mount {
    Mount::Bind(BindMount {
        source: source.into(),
        target: target.into(),
        read_only,
        bind,
    })
}

fn short_bind() -> BindOptions {
    BindOptions {
        create_host_path: true,
        ..BindOptions::default()
    }
}

#[test]
fn short_bind_mounts_start_with_a_path() {
    assert_eq!(
        mounts(
            "volumes:\n  - ./site:/usr/share/nginx/html:ro,z\n  - /var/run/docker.sock:/var/run/docker.sock\n  - ~/cfg:/cfg:rshared"
        ),
        [
            bind(
                "./site",
                "/usr/share/nginx/html",
                true,
                BindOptions {
                    selinux: Some(SeLinux::Shared),
                    ..short_bind()
                }
            ),
            bind(
                "/var/run/docker.sock",
                "/var/run/docker.sock",
                false,
                short_bind()
            ),
            bind(
                "~/cfg",
                "/cfg",
                false,
                BindOptions {
                    propagation: Some(Propagation::Rshared),
                    ..short_bind()
                }
            ),
        ]
    );
}

#[test]
fn short_named_and_anonymous_volumes() {
    assert_eq!(
        mounts("volumes:\n  - data:/var/lib/data:nocopy\n  - /scratch"),
        [
            Mount::Volume(VolumeMount {
                source: Some("data".into()),
                target: "/var/lib/data".into(),
                read_only: false,
                volume: VolumeOptions {
                    nocopy: true,
                    ..VolumeOptions::default()
                },
            }),
            Mount::Volume(VolumeMount {
                source: None,
                target: "/scratch".into(),
                read_only: false,
                volume: VolumeOptions::default()
            }),
        ]
    );
}

#[test]
fn windows_drive_letters_stay_in_the_source() {
    let m = mounts("volumes:\n  - C:\\data:/data:ro");
    assert_eq!(m, [bind("C:\\data", "/data", true, short_bind())]);
}

#[test]
fn long_syntax_with_type_options() {
    let m = mounts(
        "volumes:
  - type: bind
    source: ./conf
    target: /etc/conf
    read_only: true
    bind: {propagation: rprivate, create_host_path: true, selinux: Z, recursive: readonly}
  - type: volume
    source: data
    target: /data
    volume: {nocopy: true, subpath: sub, labels: [a=b]}
  - type: tmpfs
    target: /tmp
    tmpfs: {size: 64m, mode: \"1777\"}",
    );
    assert_eq!(
        m[0],
        bind(
            "./conf",
            "/etc/conf",
            true,
            BindOptions {
                propagation: Some(Propagation::Rprivate),
                create_host_path: true,
                selinux: Some(SeLinux::Private),
                recursive: Some(Recursive::Readonly),
            }
        )
    );
    match &m[1] {
        Mount::Volume(v) => {
            assert!(v.volume.nocopy);
            assert_eq!(v.volume.subpath.as_deref(), Some("sub"));
            assert_eq!(v.volume.labels["a"], "b");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        m[2],
        Mount::Tmpfs(TmpfsMount {
            target: "/tmp".into(),
            read_only: false,
            tmpfs: TmpfsOptions {
                size: Some(64 << 20),
                mode: Some(0o1777)
            },
        })
    );
}

#[test]
fn project_dir_makes_bind_sources_absolute() {
    let input = LoadInput::new("compose.yaml", web("volumes: [./data:/data]"))
        .with_project_dir("/home/me/app");
    let l = load(&input).unwrap();
    assert_eq!(
        l.project.services["web"].volumes[0],
        bind("/home/me/app/data", "/data", false, short_bind())
    );
}

#[test]
fn volume_errors_name_the_entry() {
    assert_error(
        &web("volumes: [\"data:relative\"]"),
        "services.web.volumes[0]",
        "must be an absolute path",
    );
    assert_error(
        &web("volumes: [\"./a:/a:rx\"]"),
        "services.web.volumes[0]",
        "unknown mode \"rx\"",
    );
    assert_error(
        &web("volumes: [\"a:b:c:d\"]"),
        "services.web.volumes[0]",
        "is not a valid volume",
    );
    assert_error(
        &web("volumes: [\"missing:/data\"]"),
        "services.web.volumes[0]",
        "volume \"missing\" is not defined",
    );
    assert_error(
        &web("volumes: [{source: ./a, target: /a}]"),
        "services.web.volumes[0]",
        "type: is required",
    );
    assert_error(
        &web("volumes: [{type: disk, source: a, target: /a}]"),
        "services.web.volumes[0].type",
        "not a mount type",
    );
    assert_error(
        &web("volumes: [{type: bind, target: /a}]"),
        "services.web.volumes[0]",
        "source: is required",
    );
    assert_error(
        &web("volumes: [{type: tmpfs, target: /t, bind: {selinux: z}}]"),
        "services.web.volumes[0].bind",
        "applies only to type: bind",
    );
    assert_error(
        &web("volumes: [{type: bind, source: ., target: /a, bind: {selinux: q}}]"),
        "services.web.volumes[0].bind.selinux",
        "use z or Z",
    );
}

#[test]
fn cluster_volumes_are_reported_as_unsupported() {
    let l = loaded(&web("volumes: [{type: cluster, source: c, target: /c}]"));
    assert!(
        l.unsupported
            .iter()
            .any(|u| u.path == "services.web.volumes[0]")
    );
    assert!(l.project.services["web"].volumes.is_empty());
}

#[test]
fn top_level_volumes_and_external_names() {
    let l = loaded(&format!(
        "{}volumes:\n  data:\n    driver: local\n    driver_opts: {{type: nfs, o: 'addr=1.2.3.4'}}\n    labels: {{team: a}}\n  ext:\n    external: true\n    name: shared-data\n  null_ok:\n",
        web("volumes: [data:/d]")
    ));
    let v = &l.project.volumes;
    assert_eq!(v["data"].driver.as_deref(), Some("local"));
    assert_eq!(v["data"].driver_opts["o"], "addr=1.2.3.4");
    assert!(v["ext"].external);
    assert_eq!(v["ext"].name.as_deref(), Some("shared-data"));
    assert!(v.contains_key("null_ok"));
}

#[test]
fn volumes_from_services_and_containers() {
    let yaml = "services:\n  a:\n    image: x\n    volumes_from: [b, \"container:c:ro\"]\n  b:\n    image: y\n";
    let s = service(yaml, "a");
    let text: Vec<String> = s.volumes_from.into_iter().map(String::from).collect();
    assert_eq!(text, ["b", "container:c:ro"]);
    assert_error(
        "services:\n  a:\n    image: x\n    volumes_from: [nope]\n",
        "services.a.volumes_from[0]",
        "not defined",
    );
}
