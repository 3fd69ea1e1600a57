// Strings of the witnesses' and victims' light path (issue 13): added to the dictionary with extend().
import { extend } from "./i18n.js";

extend({
  "witness.step.search": ["安全检查（简易）", "Light security check"],
  "witness.step.placement": ["等候 / 询问", "Wait / inquiry"],
  "witness.search_title": ["安全检查（简易）：证人、被害人", "Light security check: witness or victim"],
  "witness.search_hint": ["证人、被害人只做本中心规定的简易检查，不进行信息采集，不进入候问室。", "A witness or victim gets only the light check the centre sets: no information collection, no holding room."],
  "witness.next_title": ["证人、被害人：等候或询问", "Witness or victim: wait or inquiry"],
  "witness.next_hint": ["可直接带至询问室，在询问室终端开始询问；或安置到证人等候室等候。证人、被害人不得进入候问室，也不得与本案嫌疑人同处一室。", "Take them straight to an inquiry room and start there, or seat them in a witness waiting room. Never a holding room, never with a suspect of their case."],
  "witness.place_title": ["证人等候室", "Witness waiting room"],
  "witness.place_submit": ["安置到所选证人等候室", "Seat in the chosen room"],
  "witness.no_room": ["当前没有可用的证人等候室，可直接带至询问室询问。", "No witness waiting room is free: take them straight to an inquiry room."],
  "witness.exit": ["询问结束或无需询问：办理出区", "Done or not needed: exit"],
  "witness.skip_search": ["本中心不要求检查，可直接进行下一步。", "The centre requires no check: go on directly."],
  "witness.start_inquiry": ["开始询问", "Start"],
  "wait.place": ["证人等候室", "Witness waiting room"],
  "floor.witness": ["证人等候室", "Witness waiting rooms"],
  "roomkind.witness_waiting": ["证人等候室", "Witness waiting room"],
});
