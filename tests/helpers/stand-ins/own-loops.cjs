// Which of the machine's loop devices belong to this test: those whose backing file lies under a
// directory listed in lsblk.own (the test's work directory). Test files run side by side on one
// machine, and each must see a host with its own disks only, even when another test's loop device
// gets a number this one used before.
const fs = require("node:fs");
const path = require("node:path");

function ownDirs(here) {
  try {
    return fs.readFileSync(path.join(here, "lsblk.own"), "utf8").split("\n").filter(Boolean);
  } catch {
    return null; // no list: every device is the test's (a test that set up no loop devices)
  }
}

/** Is `device` (/dev/loopN, loopN, or any other disk) one this test may see? */
function isOwn(here, device) {
  const dirs = ownDirs(here);
  const name = path.basename(String(device));
  if (dirs === null || !/^loop\d+$/.test(name)) return true;
  let backing;
  try {
    backing = fs.readFileSync(`/sys/block/${name}/loop/backing_file`, "utf8").trim();
  } catch {
    return false; // not attached
  }
  return dirs.some((dir) => backing.startsWith(`${dir}/`));
}

module.exports = { isOwn };
