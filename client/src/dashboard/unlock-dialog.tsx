// Unlock a drive that holds data at rest: type its serial, say why, and for how long.
import { type FormEvent, useState } from "react";
import { useMutation } from "urql";
import { Dialog } from "../dialog";
import { failureText } from "../format";
import { graphql } from "../gql";

const GrantUnlock_Mutation = graphql(`
  mutation GrantUnlock($driveId: ID!, $confirmSerial: String!, $reason: String!, $minutes: Int!) {
    grantUnlock(driveId: $driveId, confirmSerial: $confirmSerial, reason: $reason, minutes: $minutes) {
      __typename
      ... on GrantUnlockSuccess {
        data {
          id
          expiresAt
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

export function UnlockDialog({ drive, onClose }: { drive: { id: string; serial: string }; onClose: () => void }) {
  const [serial, setSerial] = useState("");
  const [reason, setReason] = useState("");
  const [minutes, setMinutes] = useState("30");
  const [problem, setProblem] = useState<string | null>(null);
  const [granted, setGranted] = useState<string | null>(null);
  const [{ fetching }, grant] = useMutation(GrantUnlock_Mutation);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await grant({ driveId: drive.id, confirmSerial: serial.trim(), reason: reason.trim(), minutes: Number(minutes) });
    const answer = result.data?.grantUnlock;
    const failure = failureText(result.error, answer);
    if (failure) return setProblem(failure);
    if (answer?.__typename === "GrantUnlockSuccess") setGranted(answer.data.expiresAt);
  }

  return (
    <Dialog title={`Unlock ${drive.serial}`} onClose={onClose}>
      {granted ? (
        <div className="form">
          <p>Unlocked until {new Date(granted).toLocaleTimeString()}: the next burn-in of this drive may erase it.</p>
          <div className="actions">
            <button type="button" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} className="form">
          <p className="warn-text">This drive holds data. A burn-in erases all of it.</p>
          <label>
            Type the drive's serial to confirm
            <input value={serial} onChange={(e) => setSerial(e.target.value)} autoComplete="off" required />
          </label>
          <label>
            Reason
            <input value={reason} onChange={(e) => setReason(e.target.value)} required />
          </label>
          <label>
            Minutes
            <input type="number" min={1} max={1440} value={minutes} onChange={(e) => setMinutes(e.target.value)} required />
          </label>
          {problem ? <p role="alert">{problem}</p> : null}
          <div className="actions">
            <button type="button" className="secondary" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" disabled={fetching || serial.trim() !== drive.serial}>
              Unlock
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
