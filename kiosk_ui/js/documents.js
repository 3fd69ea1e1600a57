// Printing a stay's documents from the kiosk: one button per document (入区登记表, 人身安全检查记录, 随身物品清单,
// 出区交接单, 全程记录). The controller renders the PDF and audits its sha256; the kiosk shows the PDF in a frame,
// opens the browser's print dialogue, and says which document number and hash were printed.
import { ApiError, getToken } from "./api.js";
import { extend, t } from "./i18n.js";
import { add, clear, errorBox, h } from "./util.js";

extend({
  "doc.print": ["打印文书", "Print"],
  "doc.registration": ["入区登记表", "Registration form"],
  "doc.security_check": ["人身安全检查记录", "Security check record"],
  "doc.property_list": ["随身物品清单", "Property list"],
  "doc.exit_handover": ["出区交接单", "Exit handover sheet"],
  "doc.custody_record": ["全程记录", "Custody record"],
  "doc.generating": ["正在生成…", "Generating…"],
  "doc.printed": ["已生成《{title}》，文书编号 {id}，SHA-256 {hash}…（已记入审计日志）", "{title} generated, document {id}, SHA-256 {hash}… (in the audit trail)"],
  "doc.open": ["查看 PDF", "Open the PDF"],
  "prop.signature": ["被带入人员签名（确认随身物品清单）", "Subject's signature (confirms the property list)"],
  "prop.signature_hint": ["请被带入人员核对上面的物品后在框内签名；出区时再次签名领回。", "The subject checks the items above and signs here; they sign again at exit."],
});

const KINDS = ["registration", "security_check", "property_list", "exit_handover", "custody_record"];
const AFTER_EXIT = new Set(["exit_handover"]);

/** The print bar for a stay: the documents that exist at its state. */
export function documentBar(stay) {
  const status = h("div.doc-status.small", { role: "status", "aria-live": "polite" });
  const kinds = KINDS.filter((k) => !AFTER_EXIT.has(k) || ["exiting", "exited"].includes(stay.state));
  return h("div.doc-bar.row", { "data-stay": stay.id },
    h("span.muted.small", {}, t("doc.print")),
    kinds.map((k) => h("button.ghost.small", {
      type: "button", "data-doc": k, onclick: (e) => printDocument(stay.id, k, status, e.currentTarget),
    }, t(`doc.${k}`))),
    status);
}

async function fetchPdf(stayId, kind) {
  const res = await fetch(`/api/v1/stays/${encodeURIComponent(stayId)}/documents/${kind}.pdf`, {
    headers: { Authorization: `Bearer ${getToken()}` },
  });
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch { body = null; }
    throw new ApiError(res.status, body);
  }
  return { blob: await res.blob(), id: res.headers.get("X-Document-Id"), sha: res.headers.get("X-Document-Sha256") };
}

export async function printDocument(stayId, kind, status, button) {
  clear(status).textContent = t("doc.generating");
  if (button) button.disabled = true;
  try {
    const doc = await fetchPdf(stayId, kind);
    const url = URL.createObjectURL(doc.blob);
    let frame = document.getElementById("print-frame");
    if (!frame) {
      frame = h("iframe#print-frame", { title: t("doc.print"), "aria-hidden": "true" });
      frame.style.cssText = "position:fixed;right:0;bottom:0;width:1px;height:1px;border:0;opacity:0";
      document.body.append(frame);
    }
    frame.dataset.doc = kind;
    frame.dataset.documentId = doc.id || "";
    frame.onload = () => { try { frame.contentWindow.print(); } catch { /* the link below still opens it */ } };
    frame.src = url;
    clear(status);
    add(status, h("span.ok-text", { "data-document-id": doc.id || "" },
      t("doc.printed", { title: t(`doc.${kind}`), id: doc.id || "—", hash: (doc.sha || "").slice(0, 12) })), " ",
    h("a", { href: url, target: "_blank", rel: "noopener", download: `${kind}-${stayId}.pdf` }, t("doc.open")));
  } catch (err) {
    clear(status);
    if (err instanceof ApiError && err.status !== 401) add(status, errorBox(err));
    else if (!(err instanceof ApiError)) throw err;
  } finally {
    if (button) button.disabled = false;
  }
}
