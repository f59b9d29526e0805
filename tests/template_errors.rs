//! What a user reads when a template fails: snapshots of every kind of template error.
//! Each error names the template, the line and the host.

use hactl::template::{Templar, to_value};

fn render_err(src: &str) -> String {
    let ctx = to_value(serde_json::json!({"site": {"name": "shop"}, "flag": "yes", "n": 3}));
    match Templar::new().render_template_text(
        src,
        "roles/nginx/templates/site.conf.j2",
        &ctx,
        "lb1",
    ) {
        Ok(out) => format!("unexpected success: {out:?}"),
        Err(e) => e.to_string(),
    }
}

fn condition_err(expr: &str) -> String {
    let ctx = to_value(serde_json::json!({"flag": "yes", "n": 3}));
    match Templar::new().eval_condition(expr, &ctx, "lb1") {
        Ok(b) => format!("unexpected success: {b}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn undefined_variable() {
    insta::assert_snapshot!(render_err("line one\nserver_name {{ missing_var }};\n"));
}

#[test]
fn undefined_attribute() {
    insta::assert_snapshot!(render_err("a\nb\n{{ site.port }}\n"));
}

#[test]
fn undefined_in_if_and_for() {
    insta::assert_snapshot!(render_err("{% if enable_tls %}\nssl on;\n{% endif %}\n"));
    insta::assert_snapshot!(render_err(
        "x\n{% for u in upstream_servers %}\n{{ u }}\n{% endfor %}\n"
    ));
}

#[test]
fn undefined_through_filter() {
    insta::assert_snapshot!(render_err("{{ missing | upper }}\n"));
    insta::assert_snapshot!(render_err("{{ missing | mandatory }}\n"));
}

#[test]
fn syntax_error_with_line() {
    insta::assert_snapshot!(render_err("ok\nok\n{% if site.name %}\nno endif\n"));
    insta::assert_snapshot!(render_err("ok\n{{ site.name | }}\n"));
}

#[test]
fn unknown_filter() {
    insta::assert_snapshot!(render_err("\n{{ site.name | nosuchfilter }}\n"));
}

#[test]
fn bad_override_header() {
    insta::assert_snapshot!(render_err("#jinja2: trim_blocks False\nx {{ n }}\n"));
}

#[test]
fn conditions() {
    insta::assert_snapshot!(condition_err("flag"));
    insta::assert_snapshot!(condition_err("missing_var"));
    insta::assert_snapshot!(condition_err("  "));
    insta::assert_snapshot!(condition_err("n | nosuchfilter"));
}

/// Lists from variables cannot change in place in hactl (only `{% set x = [...] %}` ones can);
/// the error names the method instead of rendering something else.
#[test]
fn in_place_change_of_a_variable_list_is_an_error() {
    let ctx = to_value(serde_json::json!({"l": [1]}));
    let err = Templar::new()
        .render_template_text("{{ l.append(2) }}\n", "t.j2", &ctx, "h")
        .expect_err("must fail");
    assert!(err.to_string().contains("list.append()"), "{err}");
    let ok = Templar::new()
        .render_template_text(
            "{% set m = [1] %}{% set _ = m.append(2) %}{{ m }}\n",
            "t.j2",
            &ctx,
            "h",
        )
        .expect("set literal list changes");
    assert_eq!(ok, "[1, 2]\n");
}
