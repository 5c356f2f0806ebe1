import { lazy, StrictMode, Suspense, useMemo } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, RouterProvider } from "react-router";
import { Provider } from "urql";
import { Dashboard } from "./dashboard/dashboard";
import { type Account, Layout } from "./layout";
import { LiveProvider } from "./live";
import { SessionGate } from "./session";
import { createClient } from "./urql";
import "./styles.css";

// The dashboard loads first; the drawer (with the chart library), history, hosts and settings
// are fetched when first opened.
const DriveDrawerRoute = lazy(() => import("./drawer/drive-drawer").then((m) => ({ default: m.DriveDrawerRoute })));
const JobDrawerRoute = lazy(() => import("./drawer/drive-drawer").then((m) => ({ default: m.JobDrawerRoute })));
const History = lazy(() => import("./history/history").then((m) => ({ default: m.History })));
const Hosts = lazy(() => import("./hosts/hosts").then((m) => ({ default: m.Hosts })));
const VerifyPage = lazy(() => import("./verify/verify-page").then((m) => ({ default: m.VerifyPage })));
const SettingsPage = lazy(() => import("./settings/settings").then((m) => ({ default: m.SettingsPage })));
const AdminPage = lazy(() => import("./admin/admin").then((m) => ({ default: m.AdminPage })));

/** Every screen has its own URL: a drawer link can be sent to a colleague. */
function routerFor(user: Account | null, onSignOut: () => void) {
  return createBrowserRouter([
    {
      element: <Layout user={user} onSignOut={onSignOut} />,
      children: [
        {
          path: "/",
          element: <Dashboard />,
          children: [
            { path: "drives/:id", element: <DriveDrawerRoute /> },
            { path: "jobs/:id", element: <JobDrawerRoute /> },
          ],
        },
        { path: "/history", element: <History /> },
        { path: "/hosts", element: <Hosts /> },
        { path: "/settings", element: <SettingsPage /> },
        // Accounts exist only with accounts on, and are an admin's.
        ...(user?.scope === "admin" ? [{ path: "/admin", element: <AdminPage /> }] : []),
        { path: "*", element: <p className="empty">No such page.</p> },
      ],
    },
  ]);
}

function App({ user, onSignOut }: { user: Account | null; onSignOut: () => void }) {
  const client = useMemo(() => createClient(() => window.dispatchEvent(new Event("kiln:unauthenticated"))), []);
  const router = useMemo(() => routerFor(user, onSignOut), [user?.name, user?.scope, onSignOut]);
  return (
    <Provider value={client}>
      <LiveProvider>
        <RouterProvider router={router} />
      </LiveProvider>
    </Provider>
  );
}

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
// /verify is for anyone holding a report (a buyer): no account, nothing but the public key.
createRoot(root).render(
  window.location.pathname === "/verify" ? (
    <StrictMode>
      <Suspense fallback={null}>
        <VerifyPage />
      </Suspense>
    </StrictMode>
  ) : (
    <StrictMode>
      <SessionGate>
        {({ status, signOut }) => (
          <App user={status.auth === "off" ? null : { name: status.user ?? "?", scope: status.scope ?? "read" }} onSignOut={signOut} />
        )}
      </SessionGate>
    </StrictMode>
  ),
);
