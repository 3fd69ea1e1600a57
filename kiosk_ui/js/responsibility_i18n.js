// Strings of the age-of-criminal-responsibility fields on the registration form (Criminal Law art. 17).
import { extend } from "./i18n.js";

extend({
  "reg.offence_category": ["涉嫌罪名（未满16周岁嫌疑人，《刑法》第17条）", "Offence (suspect under 16, Criminal Law art. 17)"],
  "reg.spp_approval_no": ["最高人民检察院核准追诉文书号（已满12不满14周岁）", "SPP approval to prosecute, document no. (aged 12-13)"],
  "offence.none": ["不适用（已满16周岁或非刑事措施）", "Not applicable (16 or over, or no criminal measure)"],
  "offence.intentional_homicide": ["故意杀人", "Intentional homicide"],
  "offence.intentional_injury_serious": ["故意伤害致人重伤或者死亡", "Intentional injury causing serious injury or death"],
  "offence.rape": ["强奸", "Rape"],
  "offence.robbery": ["抢劫", "Robbery"],
  "offence.drug_trafficking": ["贩卖毒品", "Drug trafficking"],
  "offence.arson": ["放火", "Arson"],
  "offence.explosion": ["爆炸", "Causing an explosion"],
  "offence.poisoning": ["投放危险物质", "Releasing hazardous substances"],
});
