// Locker openings on the kiosk: the controller answers every opening with `locker_open` ({ok, code, message,
// message_en}); a failed opening is shown in Chinese with a retry, never as "locker open". A site with no lock board
// configured answers DEVICE_NOT_CONFIGURED: the custodian opens the compartment with the key.
import { extend, t } from "./i18n.js";

extend({
  "locker.key": ["储物柜 {id}：未配置锁控板，请用钥匙开柜", "Locker {id}: no lock board configured, open it with the key"],
  "locker.at": ["随身物品存放于储物柜 {id}", "The property is in locker {id}"],
  "locker.retried": ["储物柜 {id} 已重新打开", "Locker {id} opened again"],
});

/** The failure of an opening as an error-like object for errorBox, or null when it opened (or is unknown). */
export function openingFailure(opening) {
  if (!opening || opening.ok !== false) return null;
  return { code: opening.code, message: opening.message, message_zh: opening.message, message_en: opening.message_en };
}

/** True when the failure only means "no board here": the key opens it, nothing to retry. */
export function needsKey(failure) { return failure?.code === "DEVICE_NOT_CONFIGURED"; }

export function keyText(id) { return t("locker.key", { id: id.toUpperCase() }); }
export function atText(id) { return t("locker.at", { id: id.toUpperCase() }); }
export function retriedText(id) { return t("locker.retried", { id: id.toUpperCase() }); }
