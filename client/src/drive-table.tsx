import { useQuery } from "urql";
import { formatBytes } from "../../server/units";
import { graphql } from "./gql";

const DriveTable_Query = graphql(`
  query DriveTable_Drives {
    drives {
      id
      serial
      model
      devicePath
      sizeBytes
      temperatureC
      smartHealth
      inUse
      missing
      host {
        id
        name
      }
    }
  }
`);

export function DriveTable() {
  const [{ data, fetching, error }] = useQuery({ query: DriveTable_Query });
  if (error) return <p role="alert">Could not load drives: {error.message}</p>;
  if (fetching && !data) return <p>Loading drives…</p>;
  const drives = data?.drives ?? [];
  return (
    <section>
      <h2>Drives</h2>
      {drives.length === 0 ? (
        <p>No drives yet. Add a host, or start Kiln with --demo.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Host</th>
              <th>Device</th>
              <th>Model</th>
              <th>Serial</th>
              <th>Size</th>
              <th>Temp</th>
              <th>SMART</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {drives.map((d) => (
              <tr key={d.id}>
                <td>{d.host.name}</td>
                <td>{d.devicePath ?? "?"}</td>
                <td>{d.model ?? "?"}</td>
                <td>{d.serial}</td>
                <td>{formatBytes(d.sizeBytes)}</td>
                <td>{d.temperatureC == null ? "?" : `${d.temperatureC} °C`}</td>
                <td>{d.smartHealth}</td>
                <td>{d.missing ? "missing" : d.inUse ? "in use" : "free"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
