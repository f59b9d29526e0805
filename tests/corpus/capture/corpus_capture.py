# An ansible-core callback for tests/corpus/regen.sh (not part of hactl): it saves what every
# `template` task (and every `copy` task with `content:`) would write, as ansible-playbook
# --check --diff reports it, to $HACTL_CAPTURE_OUT/<inventory_hostname>/<dest>, and writes
# $HACTL_CAPTURE_OUT/ANSIBLE.txt: the tasks that failed, the rendered files ansible showed no
# content for, and the recap, so a golden set says how far ansible itself got.
#
# The diff's `after` is the rendered text itself (ActionBase._get_diff_data reads the rendered
# temp file back, undecoded bytes kept through surrogateescape), so the saved bytes are exactly
# those the task would write. `dest` comes from the module invocation, templated per loop item.

from __future__ import annotations

import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: corpus_capture
    type: aggregate
    short_description: save rendered template contents from --check --diff runs
    description: see the comment at the top of the file
"""

TEMPLATE_ACTIONS = {"template", "ansible.builtin.template", "ansible.legacy.template"}
COPY_ACTIONS = {"copy", "ansible.builtin.copy", "ansible.legacy.copy"}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "corpus_capture"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.out = os.environ["HACTL_CAPTURE_OUT"]
        self.notes = []

    def _task_label(self, result):
        task = result._task
        path = task.get_path() or "?"
        for root in os.environ.get("HACTL_CAPTURE_STRIP", "").split(":"):
            if root and path.startswith(root.rstrip("/") + "/"):
                path = path[len(root.rstrip("/")) + 1 :]
        return "task %r at %s" % (task.get_name(), path)

    def _captures(self, result):
        action = result._task.action
        args = result.task_fields.get("args", {}) or {}
        if action in TEMPLATE_ACTIONS:
            return True
        return action in COPY_ACTIONS and "content" in args

    def _save(self, result):
        res = result._result
        if not self._captures(result) or "results" in res:
            return
        host = result._host.get_name()
        args = result.task_fields.get("args", {}) or {}
        invocation = res.get("invocation", {}).get("module_args", {})
        dest = invocation.get("dest") or args.get("dest")
        diffs = res.get("diff") or []
        if isinstance(diffs, dict):
            diffs = [diffs]
        after = [d["after"] for d in diffs if "after" in d]
        if not dest or len(after) != 1 or "Diff output has been hidden" in after[0]:
            self.notes.append(
                "%s: NO CONTENT for dest %r from %s (changed=%s, diff keys %s)"
                % (host, dest, self._task_label(result), res.get("changed"),
                   sorted(k for d in diffs for k in d))
            )
            return
        if dest.endswith("/"):
            dest = dest + os.path.basename(args.get("src", ""))
        parts = [p for p in dest.split("/") if p not in ("", ".")]
        path = os.path.join(self.out, host, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(after[0].encode("utf-8", "surrogateescape"))

    def _failed(self, result, how=""):
        res = result._result
        if "results" in res:
            return
        msg = str(res.get("msg", "")).strip().splitlines()
        first = msg[0][:300] if msg else ""
        item = ""
        if "_ansible_item_label" in res:
            item = " item=%s" % (str(res["_ansible_item_label"])[:80],)
        self.notes.append(
            "%s: FAILED%s %s%s: %s"
            % (result._host.get_name(), how,
               self._task_label(result), item, first)
        )

    def v2_runner_on_ok(self, result):
        self._save(result)

    def v2_runner_item_on_ok(self, result):
        self._save(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._failed(result, " (ignored)" if ignore_errors else "")

    def v2_runner_item_on_failed(self, result):
        # The loop's own result follows; whether it is ignored is said there for the task.
        self._failed(result, " (loop item)")

    def v2_runner_on_unreachable(self, result):
        self.notes.append("%s: UNREACHABLE %s" % (result._host.get_name(), self._task_label(result)))

    def v2_playbook_on_stats(self, stats):
        lines = ["# Written by tests/corpus/regen.sh (ansible-playbook --check --diff)."]
        lines += self.notes
        for host in sorted(stats.processed):
            s = stats.summarize(host)
            lines.append(
                "%s: recap ok=%d changed=%d failed=%d skipped=%d rescued=%d ignored=%d"
                % (host, s["ok"], s["changed"], s["failures"], s["skipped"], s["rescued"],
                   s["ignored"])
            )
        os.makedirs(self.out, exist_ok=True)
        with open(os.path.join(self.out, "ANSIBLE.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
