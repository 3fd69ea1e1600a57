// Strings of the rooms' occupancy (who holds a place in a room and is away, and where): added to the dictionary.
import { extend } from "./i18n.js";

extend({
  "room.away_at": ["暂离：在{room}", "away at {room}"],
  "room.away_somewhere": ["暂离", "away"],
});
