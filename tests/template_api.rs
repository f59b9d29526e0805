//! The interface the playbook runner uses: typed task arguments, conditions, scopes.

use hactl::template::{HostInfo, OMIT, PlayInfo, PlayVars, Templar, to_value};
use indexmap::IndexMap;
use minijinja::value::ValueKind;

fn play() -> PlayVars {
    let host = |name: &str, prio: u32| HostInfo {
        name: name.into(),
        vars: serde_json::json!({"priority1": prio, "vip": "{{ net }}.100", "net": "10.0.0"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        group_names: vec!["nginx".into()],
        facts: Default::default(),
    };
    let hosts = vec![host("lb1.example.test", 100), host("lb2.example.test", 90)];
    let names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
    let groups = IndexMap::from([
        ("all".to_string(), names.clone()),
        ("nginx".to_string(), names.clone()),
        ("ungrouped".to_string(), vec![]),
    ]);
    PlayVars::new(
        &hosts,
        &groups,
        &PlayInfo {
            hosts: names,
            playbook_dir: "/pb".into(),
            check_mode: true,
            offline: false,
            ..PlayInfo::default()
        },
    )
}

#[test]
fn templar_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Templar>();
    assert_send_sync::<PlayVars>();
}

#[test]
fn task_arguments_keep_their_type() {
    let t = Templar::new();
    let play_vars = play();
    let extra =
        to_value(serde_json::json!({"pkgs": ["nginx", "keepalived"], "role_path": "/r/nginx"}));
    let ctx = play_vars
        .host_context("lb1.example.test", &[extra])
        .unwrap_or_default();
    let v = t
        .template_value("{{ pkgs }}", "with_items", &ctx, "lb1.example.test")
        .unwrap_or_default();
    assert_eq!(v.kind(), ValueKind::Seq);
    assert_eq!(v.len(), Some(2));
    let v = t
        .template_value("x-{{ pkgs | first }}", "name", &ctx, "lb1.example.test")
        .unwrap_or_default();
    assert_eq!(v.as_str(), Some("x-nginx"));
    let v = t
        .template_value("{{ omit }}", "mode", &ctx, "lb1.example.test")
        .unwrap_or_default();
    assert_eq!(v.as_str(), Some(OMIT));
    let s = t.render_str(
        "{{ role_path }}/files {{ playbook_dir }} {{ ansible_check_mode }}",
        "src",
        &ctx,
        "h",
    );
    assert_eq!(s.ok().as_deref(), Some("/r/nginx/files /pb True"));
}

#[test]
fn scopes_are_per_host_and_lazy() {
    let t = Templar::new();
    let play_vars = play();
    let ctx = play_vars
        .host_context("lb2.example.test", &[])
        .unwrap_or_default();
    let out = t.render_str(
        "{{ inventory_hostname_short }} {{ priority1 }} {{ vip }} {{ hostvars['lb1.example.test'].priority1 }} {{ groups.nginx | length }} {{ group_names }}",
        "t",
        &ctx,
        "lb2.example.test",
    );
    assert_eq!(
        out.ok().as_deref(),
        Some("lb2 90 10.0.0.100 100 2 ['nginx']")
    );
    assert!(play_vars.host_context("nope", &[]).is_none());
    assert_eq!(
        t.eval_condition("priority1 > 95", &ctx, "lb2.example.test")
            .ok(),
        Some(false)
    );
    assert_eq!(
        t.eval_condition("'nginx' in group_names", &ctx, "lb2.example.test")
            .ok(),
        Some(true)
    );
}

/// `!unsafe` text is kept as a template that renders to the text itself, whatever it holds:
/// raw-block terminators, comment and block markers, newlines around them.
#[test]
fn literal_templates_render_to_their_text() {
    let t = Templar::new();
    let ctx = play()
        .host_context("lb1.example.test", &[])
        .unwrap_or_default();
    for text in [
        "plain",
        "{{ 6 * 7 }}",
        "a{% endraw %}{{ 6 * 7 }}{% raw %}b",
        "a{%- endraw -%}b{%endraw%}c",
        "{%",
        "%}{%",
        "{# c #}\n{% if true %}x{% endif %}\n",
        "\n{{ x }}\n\n",
        "}} {{ {% {#",
    ] {
        let src = hactl::template::literal_template(text);
        let out = t.render_str(&src, "t", &ctx, "lb1.example.test");
        assert_eq!(out.ok().as_deref(), Some(text), "{text:?} as {src:?}");
        let value = t
            .template_value(&src, "t", &ctx, "lb1.example.test")
            .map(|v| v.to_string());
        assert_eq!(value.ok().as_deref(), Some(text), "{text:?} as a value");
    }
}

/// `copy: content: "{{ inventory_hostname }}\n"` writes the name and its newline, as
/// ansible-core 2.19 does (checked with ansible-playbook): the trailing newline after a lone
/// `{{ }}` is part of the argument, not Jinja's to drop.
#[test]
fn a_newline_after_one_expression_is_kept() {
    let t = Templar::new();
    let ctx = play()
        .host_context("lb1.example.test", &[])
        .unwrap_or_default();
    let v = t
        .template_value(
            "{{ inventory_hostname }}\n",
            "content",
            &ctx,
            "lb1.example.test",
        )
        .unwrap_or_default();
    assert_eq!(v.as_str(), Some("lb1.example.test\n"));
    let v = t
        .template_value("{{ priority1 }}", "content", &ctx, "lb1.example.test")
        .unwrap_or_default();
    assert_eq!(v.kind(), ValueKind::Number);
}
