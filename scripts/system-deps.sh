#!/usr/bin/env bash
# Installs the system packages the project needs on a Debian machine, only those missing:
# Mosquitto (the MQTT broker and its command-line clients), Debian's Chromium with its Chinese resources (UI tests), a CJK font (Chinese in
# screenshots and in the printed PDF documents) and poppler-utils (pdftoppm/pdftotext, which the document tests use).
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
# mosquitto_pub: the bridge benchmark's simulated readers (2,500 reports/s from C, not from Python's paho)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
if [ "${HCC_SKIP_BROWSER:-0}" != "1" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  fc-list 2>/dev/null | grep -qiE "wqy|noto sans cjk" || need+=(fonts-wqy-microhei)
  # Chromium's Chinese UI resources: the browser's own widgets (date fields) read 年/月/日, not mm/dd/yyyy
  [ -f /usr/lib/chromium/locales/zh-CN.pak ] || need+=(chromium-l10n)
fi
# the printed documents need the CJK font even without a browser; pdftoppm/pdftotext check them in the tests
if [ "${HCC_SKIP_BROWSER:-0}" = "1" ]; then
  fc-list 2>/dev/null | grep -qiE "wqy|noto sans cjk" || need+=(fonts-wqy-microhei)
fi
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${need[*]}; install them with your package manager (need root + apt-get)" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts a system mosquitto on :1883 where it can; the project runs its own brokers on other ports.
