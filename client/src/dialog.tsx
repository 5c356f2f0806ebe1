// A modal dialog on the browser's own <dialog>: focus moves into it, Escape closes it, the page
// behind cannot be clicked, and focus goes back where it was when it closes (React removes the
// element, so the browser's own return of focus never happens: it fell to the page's body).
import { type ReactNode, useEffect, useRef } from "react";

export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      dialog?.close();
      if (
        before?.isConnected &&
        (document.activeElement === null || document.activeElement === document.body || dialog?.contains(document.activeElement))
      ) {
        before.focus();
      }
    };
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id="dialog-title">{title}</h2>
      {children}
    </dialog>
  );
}
