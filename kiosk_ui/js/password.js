// Password screens (issue 16): "修改密码" for every signed-in staff member (current password, the new one twice,
// the policy in words), "重置他人密码" for an admin. The server decides (POST /auth/password,
// POST /staff/{id}/password) and its refusal is shown as its own sentence. A change ends every session of the
// account, this one included: the screen locks and the sign-in screen says why.
import { api, setToken } from "./api.js";
import { t } from "./i18n.js";
import "./password_i18n.js";
import { can, currentStaff, lock } from "./session.js";
import { errorBox, h, toast } from "./util.js";

const POLICY = ["pw.policy.length", "pw.policy.police_no", "pw.policy.common", "pw.policy.differ"];

function close() { document.getElementById("pw-dialog")?.remove(); }

function field(key, name, attrs = {}) {
  return [h("label", { for: `pw-${name}`, "data-i18n": key }, t(key)),
    h(`input#pw-${name}`, { name, type: "password", autocomplete: "off", required: true, maxlength: "256", ...attrs })];
}

function policy(endsKey) {
  return h("div.policy", { "data-testid": "pw-policy" },
    h("strong", { "data-i18n": "pw.policy.title" }, t("pw.policy.title")),
    h("ul", {}, POLICY.map((k) => h("li", { "data-i18n": k }, t(k)))),
    h("div", { "data-i18n": endsKey }, t(endsKey)));
}

function dialog(titleKey, body, submitKey, onSubmit) {
  close();
  const errors = h("div#pw-error", { "aria-live": "assertive" });
  const form = h("form#pw-form", { autocomplete: "off" },
    h("h2", { "data-i18n": titleKey }, t(titleKey)), ...body, errors,
    h("div.pw-actions", {},
      h("button.ghost#pw-cancel", { type: "button", "data-i18n": "pw.cancel", onclick: close }, t("pw.cancel")),
      h("button.primary#pw-submit", { type: "submit", "data-i18n": submitKey }, t(submitKey))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    const submit = form.querySelector("#pw-submit");
    if (form.new_password.value !== form.again.value) {
      errors.append(errorBox({ message_zh: t("pw.mismatch"), message_en: t("pw.mismatch") }));
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit(form);
    } catch (err) {
      errors.append(errorBox(err));  // the server's own sentence (e.g. 密码至少10位), never its code
    } finally {
      submit.disabled = false;
    }
  });
  const el = h("div#pw-dialog", { role: "dialog", "aria-modal": "true" }, h("div.card", {}, form));
  document.body.append(el);
  setTimeout(() => form.querySelector("input, select")?.focus(), 0);
  return form;
}

function openChange() {
  dialog("pw.title", [policy("pw.policy.ends"), ...field("pw.current", "current_password"),
    ...field("pw.new", "new_password"), ...field("pw.again", "again")], "pw.submit", async (form) => {
    await api("POST", "/auth/password", { current_password: form.current_password.value,
      new_password: form.new_password.value });
    close();
    setToken("");  // the server ended this session with the others: nothing to sign out
    lock("lock.password_changed");
  });
}

async function openReset() {
  const staff = await api("GET", "/staff");
  const me = currentStaff();
  const select = h("select#pw-staff", { name: "staff_id", required: true },
    h("option", { value: "" }, t("pw.reset.choose")),
    staff.filter((p) => p.active).map((p) => h("option", { value: p.id }, `${p.name}（${p.police_no}）`)));
  dialog("pw.reset.title", [policy("pw.reset.ends"),
    h("label", { for: "pw-staff", "data-i18n": "pw.reset.staff" }, t("pw.reset.staff")), select,
    ...field("pw.new", "new_password"), ...field("pw.again", "again")], "pw.reset.submit", async (form) => {
    const id = form.staff_id.value;
    await api("POST", `/staff/${encodeURIComponent(id)}/password`, { new_password: form.new_password.value });
    close();
    if (me && id === me.id) { setToken(""); lock("lock.password_changed"); return; }
    toast(t("pw.reset.done"));
  });
}

function buttons() {
  const header = document.querySelector("header.top");
  const signout = header?.querySelector("[data-action=signout]");
  if (!header || document.getElementById("pw-open")) return;
  const change = h("button.ghost#pw-open", { type: "button", "data-i18n": "pw.open", onclick: openChange }, t("pw.open"));
  const reset = h("button.ghost.hidden#pw-reset-open", { type: "button", "data-i18n": "pw.reset.open",
    onclick: () => openReset().catch((err) => toast(err.message_zh || String(err))) }, t("pw.reset.open"));
  header.insertBefore(change, signout || null);
  header.insertBefore(reset, signout || null);
}

// Follow the sign-in state: the admin's entry shows for admins only, and a dialog left open never outlives the
// session it was opened in (an idle lock, a sign-out, a session ended elsewhere).
function follow() {
  const signedIn = document.body.dataset.signedIn === "1";
  document.getElementById("pw-reset-open")?.classList.toggle("hidden", !(signedIn && can("admin")));
  document.getElementById("pw-open")?.classList.toggle("hidden", !signedIn);
  if (!signedIn) close();
}

document.head.append(h("link", { rel: "stylesheet", href: "css/password.css" }));
buttons();
follow();
new MutationObserver(follow).observe(document.body, { attributes: true, attributeFilter: ["data-signed-in"] });
// no applyI18n() here: the page's other modules may not have added their strings yet; the buttons carry their
// text already and data-i18n, so the page's language switch translates them with the rest
