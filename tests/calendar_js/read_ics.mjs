// Reads an .ics with ical.js (the parser of Thunderbird and many web calendars) and prints
// the first event's start as UTC ISO and as local wall time in the zone given: the test
// compares both with the appointment (tests/scheduling/test_ics_clients.py).
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const [file, zone] = process.argv.slice(2);
const component = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
const event = new ICAL.Event(component.getFirstSubcomponent("vevent"));
const start = event.startDate.toJSDate();
const local = new Intl.DateTimeFormat("en-GB", {
  timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
}).format(start);
console.log(JSON.stringify({ utc: start.toISOString(), local, organizer: component
  .getFirstSubcomponent("vevent").getFirstPropertyValue("organizer") }));
