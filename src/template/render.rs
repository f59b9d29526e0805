//! [`Templar`]: the configured environment and the three ways the playbook runner templates:
//! whole files (the `template` module), strings (task arguments) and conditions (`when:`).

use std::path::Path;
use std::sync::Arc;

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, UndefinedBehavior};

use super::error::TemplateError;
use super::{filters, jinja_tests, pyrepr};

/// Ansible's marker for a first line of per-template environment overrides.
const HEADER: &str = "#jinja2:";

/// Renders templates as ansible-core 2.19 does. Build once, share across hosts and threads.
#[derive(Debug)]
pub struct Templar {
    env: Arc<Environment<'static>>,
    /// The `ansible_managed` setting (ansible.cfg `[defaults] ansible_managed`).
    managed: String,
}

impl Default for Templar {
    fn default() -> Self {
        Self::new()
    }
}

/// Settings a `#jinja2:` header may change.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Overrides {
    trim_blocks: bool,
    lstrip_blocks: bool,
    keep_trailing_newline: bool,
}

const DEFAULTS: Overrides = Overrides {
    trim_blocks: true,
    lstrip_blocks: false,
    keep_trailing_newline: false,
};

impl Templar {
    pub fn new() -> Self {
        let mut env = Environment::new();
        set_whitespace(&mut env, DEFAULTS);
        // Ansible's undefined is chainable (`a.b.c | default(x)` works with `a` missing) and
        // strict when printed or filtered; the formatter and filters enforce the strict part.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        // Debug mode makes undefined errors name the expression ("'foo' is undefined").
        env.set_debug(true);
        env.set_unknown_method_callback(super::pymethods::call);
        env.set_formatter(|out, _state, value| {
            match value.kind() {
                ValueKind::Undefined => return Err(filters::undefined_error(value)),
                // Ansible's concatenation drops None (`a{{ none }}b` is `ab`).
                ValueKind::None => {}
                _ => {
                    let mut text = String::new();
                    pyrepr::write_str(&mut text, value);
                    out.write_str(&text).map_err(|e| {
                        minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed")
                            .with_source(e)
                    })?;
                }
            }
            Ok(())
        });
        // `{% include %}`/`{% import %}` names are relative to the including template's folder,
        // which is one of the folders on Ansible's template search path.
        env.set_path_join_callback(|name, parent| {
            if Path::new(name).is_absolute() {
                return name.into();
            }
            // The template module's search path, as Jinja's FileSystemLoader searches it.
            if let Some(found) = search::find(name) {
                return found.display().to_string().into();
            }
            let dir = Path::new(parent).parent().unwrap_or(Path::new(""));
            dir.join(name).display().to_string().into()
        });
        env.set_loader(|name| match std::fs::read_to_string(name) {
            Ok(text) => Ok(Some(super::source::prepare(&text, false))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(minijinja::Error::new(
                minijinja::ErrorKind::TemplateNotFound,
                format!("{name}: {e}"),
            )),
        });
        filters::register(&mut env);
        super::lookup::register(&mut env);
        jinja_tests::register(&mut env);
        Templar {
            env: Arc::new(env),
            managed: super::template_vars::DEFAULT_MANAGED.to_string(),
        }
    }

    /// Uses `setting` (ansible.cfg's `[defaults] ansible_managed`) for `ansible_managed`.
    pub fn set_ansible_managed(&mut self, setting: &str) {
        self.managed = setting.to_string();
    }

    /// `ctx` with the template module's variables for the template at `path` on top
    /// (`ansible_managed` only when the play does not define it).
    fn with_module_vars(
        &self,
        path: &Path,
        task: Option<super::template_vars::TaskPaths<'_>>,
        ctx: &Value,
        host: &str,
    ) -> Result<Value, TemplateError> {
        let user_managed = ctx
            .get_attr("ansible_managed")
            .is_ok_and(|v| !v.is_undefined());
        let managed = (!user_managed).then_some(self.managed.as_str());
        let layer = super::template_vars::layer(task, path, managed).map_err(|message| {
            TemplateError::Render {
                host: host.to_string(),
                name: path.display().to_string(),
                line: None,
                message,
            }
        })?;
        Ok(minijinja::value::merge_maps([ctx.clone(), layer]))
    }

    /// Renders the template file at `path` as the `template` module writes it on `host`, with
    /// the module's `template_*` variables and `ansible_managed`, except `template_path` and
    /// `template_destpath`, which need the task's `src` and `dest`
    /// ([`Templar::render_template_module`]): a template using them fails here.
    pub fn render_file(
        &self,
        path: &Path,
        ctx: &Value,
        host: &str,
    ) -> Result<String, TemplateError> {
        let ctx = self.with_module_vars(path, None, ctx, host)?;
        self.render_path(path, &ctx, host)
    }

    /// Renders the template file at `path` for a `template` task with `src` (as the task wrote
    /// it) and `dest`: all the variables the template module adds.
    pub fn render_template_module(
        &self,
        path: &Path,
        src: &str,
        dest: &str,
        ctx: &Value,
        host: &str,
    ) -> Result<String, TemplateError> {
        let task = super::template_vars::TaskPaths {
            src,
            dest: Some(dest),
        };
        let ctx = self.with_module_vars(path, Some(task), ctx, host)?;
        self.render_path(path, &ctx, host)
    }

    fn render_path(&self, path: &Path, ctx: &Value, host: &str) -> Result<String, TemplateError> {
        let _search = search::Active::enter(search::roots(ctx, path));
        let source = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.render(&source, &path.display().to_string(), ctx, host, false)
    }

    /// Renders a string from a task argument (`copy: content=`, `msg:`...). As for a file, text
    /// without Jinja syntax is returned as it is and trailing newlines are kept; in addition,
    /// backslashes in string literals inside `{{ }}` are literal, since YAML already processed
    /// them (Ansible's `escape_backslashes`).
    pub fn render_str(
        &self,
        src: &str,
        name: &str,
        ctx: &Value,
        host: &str,
    ) -> Result<String, TemplateError> {
        self.render(src, name, ctx, host, true)
    }

    /// Renders a template file's contents given as a string (no backslash escaping).
    pub fn render_template_text(
        &self,
        src: &str,
        name: &str,
        ctx: &Value,
        host: &str,
    ) -> Result<String, TemplateError> {
        self.render(src, name, ctx, host, false)
    }

    fn render(
        &self,
        src: &str,
        name: &str,
        ctx: &Value,
        host: &str,
        escape: bool,
    ) -> Result<String, TemplateError> {
        let _active = super::lazy::ActiveEnv::enter(&self.env);
        if !is_possibly_template(src) {
            return Ok(src.to_string());
        }
        let (body, overrides) = split_header(src, name)?;
        // Jinja's lexer turns every line break of the template into `\n`.
        let body = if body.contains('\r') {
            body.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            body.to_string()
        };
        let env = self.env_for(overrides);
        let body = super::source::prepare(&body, escape);
        let rendered = match single_expression(&body, overrides) {
            Some(expr) => {
                // A template that is one `{{ }}` yields the value itself (Jinja native types);
                // the template module writes `str()` of it, and fixes newlines only for strings.
                let value = eval_strict(&env, expr, ctx)
                    .map_err(|e| TemplateError::from_minijinja(&e, name, host))?;
                match value.kind() {
                    ValueKind::Undefined => {
                        let err = filters::undefined_error(&value);
                        return Err(TemplateError::from_minijinja(&err, name, host).with_line(1));
                    }
                    ValueKind::None => String::new(),
                    ValueKind::String => value.as_str().unwrap_or_default().to_string(),
                    _ => return Ok(pyrepr::py_str(&value)),
                }
            }
            None => env
                .template_from_named_str(name, &body)
                .and_then(|t| t.render(ctx))
                .map_err(|e| TemplateError::from_minijinja(&e, name, host))?,
        };
        Ok(restore_trailing_newlines(src, rendered))
    }

    /// Templates a task argument: a string that is exactly one `{{ expression }}` gives the
    /// expression's value (a list stays a list); anything else gives the rendered string.
    pub fn template_value(
        &self,
        src: &str,
        name: &str,
        ctx: &Value,
        host: &str,
    ) -> Result<Value, TemplateError> {
        let _active = super::lazy::ActiveEnv::enter(&self.env);
        let prepared = super::source::prepare(src, true);
        // `"{{ x }}\n"` is text ending in a newline, which Ansible keeps (render_str restores
        // it); only a `{{ }}` that ends the argument gives the bare value.
        let lone = single_expression(&prepared, DEFAULTS).filter(|_| !prepared.ends_with('\n'));
        if let Some(expr) = lone {
            let value = eval_strict(&self.env, expr, ctx)
                .map_err(|e| TemplateError::from_minijinja(&e, name, host))?;
            if value.is_undefined() {
                let err = filters::undefined_error(&value);
                return Err(TemplateError::from_minijinja(&err, name, host));
            }
            return Ok(value);
        }
        self.render_str(src, name, ctx, host).map(Value::from)
    }

    /// Evaluates a `when:` condition as Ansible 2.19 does: a bare expression whose result must
    /// be a boolean; a condition that is entirely `{{ ... }}` is rendered first and its text is
    /// then evaluated as the expression.
    pub fn eval_condition(
        &self,
        expr: &str,
        ctx: &Value,
        host: &str,
    ) -> Result<bool, TemplateError> {
        let conditional = |message: String| TemplateError::Conditional {
            host: host.to_string(),
            expr: expr.to_string(),
            message,
        };
        let _active = super::lazy::ActiveEnv::enter(&self.env);
        let mut expression = expr.trim().to_string();
        if expression.is_empty() {
            return Err(conditional(
                "Empty conditional expressions are not allowed.".into(),
            ));
        }
        if is_all_template(&expression) {
            let templated = super::source::prepare(&expression, false);
            let rendered = match single_expression(&templated, DEFAULTS) {
                Some(inner) => eval_strict(&self.env, inner, ctx)
                    .map_err(|e| TemplateError::from_minijinja(&e, "conditional", host))?,
                None => Value::from(self.render(&expression, "conditional", ctx, host, false)?),
            };
            match rendered {
                v if v.is_undefined() => {
                    let err = filters::undefined_error(&v);
                    return Err(TemplateError::from_minijinja(&err, "conditional", host));
                }
                v if v.kind() == ValueKind::Bool => return Ok(v.is_true()),
                v if v.kind() == ValueKind::String => {
                    expression = v.as_str().unwrap_or_default().trim().to_string()
                }
                v => return Err(conditional(broken_conditional(&v))),
            }
        }
        let value = eval_strict(&self.env, &expression, ctx)
            .map_err(|e| conditional(super::error::describe(&e)))?;
        match value.kind() {
            ValueKind::Bool => Ok(value.is_true()),
            ValueKind::Undefined => {
                let err = filters::undefined_error(&value);
                Err(TemplateError::from_minijinja(&err, "conditional", host))
            }
            _ => Err(conditional(broken_conditional(&value))),
        }
    }

    fn env_for(&self, o: Overrides) -> std::borrow::Cow<'_, Environment<'static>> {
        if o == DEFAULTS {
            return std::borrow::Cow::Borrowed(&*self.env);
        }
        let mut env = (*self.env).clone();
        set_whitespace(&mut env, o);
        std::borrow::Cow::Owned(env)
    }
}

/// Where `{% include %}`, `{% import %}` and `{% extends %}` names are looked up while a
/// template file renders: ansible-core's template action puts `ansible_search_path` (the
/// role's folder, then the playbook's), the playbook's folder and the template's own folder
/// on Jinja's search path, each as `<folder>/templates` then `<folder>`.
mod search {
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};

    use minijinja::value::{Value, ValueKind};

    thread_local! {
        static ROOTS: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
    }

    /// Makes `roots` the search path until dropped.
    pub struct Active(Vec<PathBuf>);

    impl Active {
        pub fn enter(roots: Vec<PathBuf>) -> Self {
            Active(ROOTS.with(|r| std::mem::replace(&mut *r.borrow_mut(), roots)))
        }
    }

    impl Drop for Active {
        fn drop(&mut self) {
            let previous = std::mem::take(&mut self.0);
            ROOTS.with(|r| *r.borrow_mut() = previous);
        }
    }

    /// The search path for the template file `path` rendered with `ctx`.
    pub fn roots(ctx: &Value, path: &Path) -> Vec<PathBuf> {
        let text = |name: &str| {
            ctx.get_attr(name)
                .ok()
                .and_then(|v| v.as_str().map(PathBuf::from))
        };
        let mut folders: Vec<PathBuf> = match ctx.get_attr("ansible_search_path") {
            Ok(list) if list.kind() == ValueKind::Seq => list
                .try_iter()
                .map(|it| it.filter_map(|v| v.as_str().map(PathBuf::from)).collect())
                .unwrap_or_default(),
            _ => text("role_path").into_iter().collect(),
        };
        folders.extend(text("playbook_dir"));
        folders.extend(path.parent().map(Path::to_path_buf));
        folders
            .into_iter()
            .flat_map(|f| [f.join("templates"), f])
            .collect()
    }

    /// The first `<root>/<name>` that is a file.
    pub fn find(name: &str) -> Option<PathBuf> {
        ROOTS.with(|r| {
            r.borrow()
                .iter()
                .map(|root| root.join(name))
                .find(|p| p.is_file())
        })
    }
}

fn set_whitespace(env: &mut Environment<'static>, o: Overrides) {
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(o.trim_blocks)
        .lstrip_blocks(o.lstrip_blocks)
        .keep_trailing_newline(o.keep_trailing_newline)
        .build();
    // The default delimiters always build; keep minijinja's defaults if that ever changes.
    if let Ok(syntax) = syntax {
        env.set_syntax(syntax);
    }
}

impl TemplateError {
    fn with_line(mut self, n: usize) -> Self {
        if let TemplateError::Render { line, .. } = &mut self {
            line.get_or_insert(n);
        }
        self
    }
}

/// Templates a variable's value as Ansible does on use: strings come from YAML (backslashes in
/// literals are literal) and a lone `{{ expr }}` keeps the expression's type.
pub(crate) fn render_variable(
    env: &Environment<'static>,
    src: &str,
    ctx: &Value,
) -> Result<Value, minijinja::Error> {
    let prepared = super::source::prepare(src, true);
    if let Some(expr) = single_expression(&prepared, DEFAULTS) {
        return eval_strict(env, expr, ctx);
    }
    let rendered = env.render_str(&prepared, ctx)?;
    Ok(Value::from(restore_trailing_newlines(src, rendered)))
}

/// Evaluates an expression; an undefined result fails with minijinja's description of it
/// ("`foo.bar` is undefined"), which only the engine can attach.
fn eval_strict(
    env: &Environment<'static>,
    expr: &str,
    ctx: &Value,
) -> Result<Value, minijinja::Error> {
    let expr = super::source::strict_compare(&super::source::percent_ops(
        &super::source::builtin_names(expr),
    ));
    env.compile_expression_owned(format!("({expr})|__strict"))
        .and_then(|e| e.eval(ctx))
}

fn broken_conditional(value: &Value) -> String {
    format!(
        "Conditional result ({}) was derived from value of type '{}'. Conditionals must have a boolean result.",
        if value.is_true() { "True" } else { "False" },
        python_type_name(value)
    )
}

fn python_type_name(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::None | ValueKind::Undefined => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Map => "dict",
        _ => "list",
    }
}

/// Ansible templates a string only if it contains a Jinja start marker or the override header.
fn is_possibly_template(src: &str) -> bool {
    src.starts_with(HEADER) || src.contains("{{") || src.contains("{%") || src.contains("{#")
}

/// Ansible's check for a condition written as a template: starts and ends with delimiters.
fn is_all_template(src: &str) -> bool {
    (src.starts_with("{{") || src.starts_with("{%") || src.starts_with("{#"))
        && (src.ends_with("}}") || src.ends_with("%}") || src.ends_with("#}"))
}

/// Splits off a `#jinja2:key: value, ...` first line and applies its settings.
fn split_header<'a>(src: &'a str, name: &str) -> Result<(&'a str, Overrides), TemplateError> {
    let Some(rest) = src.strip_prefix(HEADER) else {
        return Ok((src, DEFAULTS));
    };
    let header_err = |message: String| TemplateError::Header {
        name: name.to_string(),
        message,
    };
    let Some((line, body)) = rest.split_once('\n') else {
        return Err(header_err(
            "Missing newline after '#jinja2:' override.".into(),
        ));
    };
    let mut o = DEFAULTS;
    for pair in line.split(',') {
        if pair.trim().is_empty() {
            return Err(header_err(
                "Empty '#jinja2:' override pair not allowed.".into(),
            ));
        }
        let Some((key, value)) = pair.split_once(':') else {
            return Err(header_err(format!(
                "Missing key-value separator `:` in '#jinja2:' override pair '{pair}'."
            )));
        };
        let flag = match value.trim() {
            "True" => true,
            "False" => false,
            other => {
                return Err(header_err(format!(
                    "unsupported value {other:?} for {:?}",
                    key.trim()
                )));
            }
        };
        match key.trim() {
            "trim_blocks" => o.trim_blocks = flag,
            "lstrip_blocks" => o.lstrip_blocks = flag,
            "keep_trailing_newline" => o.keep_trailing_newline = flag,
            other => {
                return Err(header_err(format!(
                    "override {other:?} is not supported by hactl"
                )));
            }
        }
    }
    Ok((body, o))
}

/// The expression of a template that is exactly one `{{ ... }}` once Jinja has dropped the
/// final newline.
fn single_expression(body: &str, o: Overrides) -> Option<&str> {
    let body = if o.keep_trailing_newline {
        body
    } else {
        body.strip_suffix('\n').unwrap_or(body)
    };
    let inner = body.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") || inner.contains("{#")
    {
        return None;
    }
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    // Quoted text could hide a `}}`-less string that still parses differently; keep it simple:
    // only plain single expressions take this path.
    Some(inner)
}

fn trailing_newlines(s: &str) -> usize {
    s.len() - s.trim_end_matches('\n').len()
}

/// Ansible appends the newlines Jinja dropped so the output ends like the template.
pub(crate) fn restore_trailing_newlines(template: &str, mut rendered: String) -> String {
    let want = trailing_newlines(template);
    let have = trailing_newlines(&rendered);
    if want > have {
        rendered.extend(std::iter::repeat_n('\n', want - have));
    }
    rendered
}
