// Screen words of the kiosk's links to the centre's other desks (case property, case files, health checks).
import { extend } from "./i18n.js";

extend({
  "nav.case_property": ["涉案财物", "Case property"],
  "nav.case_files": ["卷宗管理", "Case files"],
  "nav.health": ["健康检查", "Health checks"],
});
