// Loads every domain's types onto the builder, then builds the schema.
import { builder } from "./builder.js";
import "./scalars.js";
import "./enums.js";
import "./errors.js";
import "./host.js";
import "./drive.js";
import "./stage.js";
import "./job.js";
import "./unlock.js";
import "./settings.js";
import "./auth.js";
import "./live.js";
import "./report.js";
import "./notifications.js";

export const schema = builder.toSchema();
