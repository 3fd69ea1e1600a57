// The interview safeguards on the interview terminal (issue 13): before the start, each requirement the law or the
// site sets for this subject (appropriate adult recorded and present, female staff member, interpreter, breath test)
// with its state; the start button stays disabled until all are met. The server checks the same rules again
// (controller/domain/safeguards.py) — this list only shows a person what is missing.
import "./safeguards_i18n.js";
import { ApiError, get, post } from "./api.js";
import { t } from "./i18n.js";
import { ADULT_RELATIONS } from "./rights.js";
import { add, errorBox, field, h, select } from "./util.js";

/** The server's view of this stay's safeguards in this room. */
export function loadRequirements(stayId, room) {
  return get(`/stays/${stayId}/interview-requirements?room_id=${encodeURIComponent(room)}`);
}

/** Whether requirement `r` is met now, counting what the officer has filled in on this terminal (`draft`). */
export function isMet(r, req, draft, me, officers) {
  if (!r.required) return true;
  switch (r.key) {
    case "adult_present":
      return req.adult_presence === "tag" ? r.met
        : !!draft.adult_confirmed && !!req.appropriate_adult && officers.includes(me?.id);
    case "female_staff": return r.met || (!!draft.female_no?.trim() && !!draft.female_pw);
    case "interpreter": return !!draft.interpreter?.trim();
    default: return r.met;
  }
}

export function allMet(req, draft, me, officers) {
  return !!req && req.requirements.every((r) => isMet(r, req, draft, me, officers));
}

function label(r, req) {
  if (r.key === "adult_present") return t(`sg.req.adult_present.${req.adult_presence}`);
  if (r.key === "breath_test") return t("sg.req.breath_test", { threshold: req.breath_threshold_mg_100ml });
  return t(`sg.req.${r.key}`);
}

/** The list with each requirement's state; `refresh()` repaints the states in place (no redraw under a finger). */
export function requirementList(req, draft, me, officersNow) {
  const needed = req.requirements.filter((r) => r.required);
  const items = needed.map((r) => {
    const state = h("span.sg-state");
    const li = h("li.sg-item", { "data-req": r.key }, state, " ", label(r, req),
      h("span.small.muted", {}, `（${t("sg.source")}：${r.source}）`));
    return { r, li, state };
  });
  const refresh = () => {
    for (const { r, li, state } of items) {
      const met = isMet(r, req, draft, me, officersNow());
      li.dataset.met = met ? "true" : "false";
      li.classList.toggle("sg-met", met);
      li.classList.toggle("sg-unmet", !met);
      state.textContent = met ? `✓ ${t("sg.met")}` : `✗ ${t("sg.unmet")}`;
    }
  };
  refresh();
  const box = h("div.panel.notice#iv-requirements", {}, h("h3", {}, t("sg.title")),
    needed.length ? h("ul.sg-list", {}, items.map((x) => x.li)) : h("p.muted", {}, t("sg.none")));
  return { box, refresh };
}

/** The appropriate adult: recorded (name, relation) or a form to record them with their visitor tag; where the
 * room has no reader, the officer's confirmation box. */
export function adultSection(stayId, req, draft, onChange, onRecorded) {
  const a = req.appropriate_adult;
  const box = h("div.panel#sg-adult", {}, h("h3", {}, t("sg.adult")));
  if (a) {
    add(box, h("p#sg-adult-recorded", {}, `${a.name}（${t(`adult_rel.${a.relation}`)}） · ${t("sg.adult_recorded")}`));
    // the adult leaves (the visitor tag handed back): recorded, and another adult may then be recorded
    const left = h("button.ghost", { type: "button", "data-action": "adult-left", onclick: async () => {
      box.querySelector(".error-box")?.remove();
      try {
        await post(`/appropriate-adults/${a.id}/leave`, {});
        await onRecorded();
      } catch (err) { if (err instanceof ApiError && err.status !== 401) box.append(errorBox(err)); }
    } }, t("sg.adult_left"));
    add(box, h("div.row", {}, left));
  } else {
    const relations = ADULT_RELATIONS.map((r) => ({ value: r, label: t(`adult_rel.${r}`) }));
    // typed values live in the draft, so a live update that redraws the terminal keeps them
    const typed = (draft.adult ||= {});
    const keep = (el) => { el.value = typed[el.name] || ""; el.addEventListener("input", () => { typed[el.name] = el.value; }); el.addEventListener("change", () => { typed[el.name] = el.value; }); return el; };
    const f = h("div#sg-adult-form", {},
      h("div.grid2", {},
        field(t("sg.adult_name"), keep(h("input", { name: "sg_adult_name" }))),
        field(t("sg.adult_relation"), keep(select("sg_adult_relation", relations, { empty: t("form.choose") }))),
        field(t("rights.adult_id_number"), keep(h("input", { name: "sg_adult_id_number", maxlength: 18, autocomplete: "off" }))),
        field(t("rights.adult_contact"), keep(h("input", { name: "sg_adult_contact", inputmode: "tel" }))),
        field(t("sg.adult_tag"), keep(h("input", { name: "sg_adult_tag", autocomplete: "off", title: t("sg.adult_tag_hint") })))),
      h("p.small.muted", {}, t("sg.adult_tag_hint")));
    const btn = h("button", { type: "button", "data-action": "record-adult", onclick: async () => {
      box.querySelector(".error-box")?.remove();
      const v = (n) => f.querySelector(`[name=${n}]`).value.trim();
      const body = { name: v("sg_adult_name"), relation: v("sg_adult_relation"), id_number: v("sg_adult_id_number"),
        contact: v("sg_adult_contact") };
      if (v("sg_adult_tag")) body.tag_id = v("sg_adult_tag");
      try {
        await post(`/stays/${stayId}/appropriate-adult`, body);
        draft.adult = {};
        await onRecorded();
      } catch (err) { if (err instanceof ApiError && err.status !== 401) box.append(errorBox(err)); }
    } }, t("sg.adult_record"));
    add(box, f, h("div.row", {}, btn));
  }
  if (a && req.adult_presence === "tag") {
    const seen = req.requirements.find((r) => r.key === "adult_present")?.met;
    if (!seen) add(box, h("p.small.muted#sg-adult-wait", {}, t("sg.adult_wait_tag")));
  }
  if (a && req.adult_presence === "officer_confirmed") {
    add(box, h("label.check", {}, h("input", { type: "checkbox", name: "sg_adult_confirmed", checked: !!draft.adult_confirmed,
      onchange: (e) => { draft.adult_confirmed = e.target.checked; onChange(); } }), t("sg.adult_confirm")));
  }
  return box;
}

/** A female minor: the signed-in user is the female staff member, or she verifies herself here. */
export function femaleSection(req, draft, onChange) {
  const r = req.requirements.find((x) => x.key === "female_staff");
  if (!r?.required) return null;
  if (r.met) return h("div.panel#sg-female", {}, h("p", {}, `✓ ${t("sg.female_me")}`));
  const no = h("input", { name: "sg_female_no", autocomplete: "off", value: draft.female_no || "",
    oninput: (e) => { draft.female_no = e.target.value; onChange(); } });
  const pw = h("input", { name: "sg_female_pw", type: "password", autocomplete: "off", value: draft.female_pw || "",
    oninput: (e) => { draft.female_pw = e.target.value; onChange(); } });
  return h("div.panel#sg-female", {}, h("h3", {}, t("sg.female_verify")),
    h("div.grid2", {}, field(t("sg.female_no"), no), field(t("sg.female_pw"), pw)));
}

export function breathLine(req) {
  const r = req.requirements.find((x) => x.key === "breath_test");
  if (!r?.required) return null;
  return h("p.small#sg-breath", {}, req.breath ? t("sg.breath_latest", { value: req.breath.value_mg_100ml }) : t("sg.breath_none"));
}
