// The dashboard: every host with its drives, live. Select drives, start a burn-in.
import { Suspense, useEffect, useMemo, useState } from "react";
import { Outlet } from "react-router";
import { useQuery } from "urql";
import { DEFAULT_THRESHOLDS } from "../burn-in/scan";
import { graphql } from "../gql";
import { useRefetchOnReconnect } from "../live";
import { LoadState } from "../parts";
import { DriveRow, driveBlocked } from "./drive-row";
import { StartDialog } from "./start-dialog";
import { UnlockDialog } from "./unlock-dialog";

const Dashboard_Query = graphql(`
  query Dashboard {
    settings {
      temperatureWarmC
      temperatureHotC
    }
    hosts {
      id
      name
      status
      statusReason
      drives {
        id
        serial
        model
        sizeBytes
        devicePath
        inUse
        missing
        usage {
          active
        }
        jobs(first: 1) {
          id
          status
        }
        ...DriveRow_drive
      }
    }
  }
`);

const DRIVE_COLUMNS = [
  "select",
  "device",
  "serial",
  "model",
  "size",
  "temp",
  "status",
  "health",
  "stage",
  "progress",
  "mbps",
  "eta",
  "bad",
  "verdict",
] as const;

export function Dashboard() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: Dashboard_Query });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  // After a start the start button is disabled (nothing selected): focus goes to the first drive
  // started, once the dialog's own cleanup (which returns focus to that button) has run.
  const [focusAfterStart, setFocusAfterStart] = useState<string | null>(null);
  useEffect(() => {
    if (!focusAfterStart) return;
    document.querySelector<HTMLElement>(`tr[data-serial="${CSS.escape(focusAfterStart)}"] a`)?.focus();
    setFocusAfterStart(null);
  }, [focusAfterStart]);
  const [starting, setStarting] = useState(false);
  const [unlocking, setUnlocking] = useState<{ id: string; serial: string } | null>(null);
  const thresholds = data ? { warmC: data.settings.temperatureWarmC, hotC: data.settings.temperatureHotC } : DEFAULT_THRESHOLDS;
  const hosts = data?.hosts ?? [];
  const drives = useMemo(() => hosts.flatMap((h) => h.drives.map((d) => ({ ...d, hostName: h.name }))), [hosts]);
  const chosen = drives.filter((d) => selected.has(d.id) && driveBlocked(d, d.jobs[0]?.status) === null);
  const atRest = chosen.filter((d) => d.inUse);
  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section aria-labelledby="dashboard-title">
      <div className="toolbar">
        <h2 id="dashboard-title">Drives</h2>
        <button type="button" disabled={chosen.length === 0} onClick={() => setStarting(true)}>
          Start burn-in{chosen.length ? ` (${chosen.length})` : ""}
        </button>
        {atRest.length === 1 ? (
          <button type="button" className="secondary" onClick={() => setUnlocking(atRest[0] ?? null)}>
            Unlock {atRest[0]?.serial}…
          </button>
        ) : null}
      </div>
      <LoadState fetching={fetching} error={error} empty={!data} what="drives">
        {hosts.length === 0 ? (
          <p className="empty">No hosts yet. Add one under Hosts, or start Kiln with --demo to try it on four demo drives.</p>
        ) : (
          hosts.map((host) => (
            <div key={host.id} className="host-block">
              <h3>
                {host.name} <span className={`badge ${host.status === "ok" ? "ok" : "warn"}`}>{host.status}</span>
                {host.statusReason ? <span className="hint"> {host.statusReason}</span> : null}
              </h3>
              {host.drives.length === 0 ? (
                <p className="empty">No drives found on this host.</p>
              ) : (
                <div className="table-scroll">
                  <table className="drives">
                    {/* The same widths in every host's table, so their columns line up. */}
                    <colgroup>
                      {DRIVE_COLUMNS.map((c) => (
                        <col key={c} className={`col-${c}`} />
                      ))}
                    </colgroup>
                    <thead>
                      <tr>
                        <th scope="col">
                          <span className="sr-only">Select</span>
                        </th>
                        <th scope="col">Device</th>
                        <th scope="col">Serial</th>
                        <th scope="col">Model</th>
                        <th scope="col">Size</th>
                        <th scope="col">Temp</th>
                        <th scope="col">Status</th>
                        <th scope="col">Health</th>
                        <th scope="col">Stage</th>
                        <th scope="col">Progress</th>
                        <th scope="col">MB/s</th>
                        <th scope="col">ETA</th>
                        <th scope="col">Bad blocks</th>
                        <th scope="col">
                          <span className="sr-only">Verdict</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {host.drives.map((drive) => (
                        <DriveRow
                          key={drive.id}
                          drive={drive}
                          thresholds={thresholds}
                          selection={{
                            selected: selected.has(drive.id),
                            blocked: driveBlocked(drive, drive.jobs[0]?.status),
                            onToggle: () => toggle(drive.id),
                          }}
                        />
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </div>
          ))
        )}
      </LoadState>
      {starting ? (
        <StartDialog
          drives={chosen.map((d) => ({
            id: d.id,
            serial: d.serial,
            inUse: d.inUse,
            model: d.model ?? null,
            sizeBytes: d.sizeBytes ?? null,
            devicePath: d.devicePath ?? null,
            hostName: d.hostName,
          }))}
          onClose={(started) => {
            setStarting(false);
            if (!started) return;
            setSelected(new Set());
            setFocusAfterStart(chosen[0]?.serial ?? null);
          }}
        />
      ) : null}
      {unlocking ? <UnlockDialog drive={unlocking} onClose={() => setUnlocking(null)} /> : null}
      <Suspense fallback={<aside className="drawer hint">Loading…</aside>}>
        <Outlet context={{ thresholds }} />
      </Suspense>
    </section>
  );
}
