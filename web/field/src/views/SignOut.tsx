import { db, signOut, t, useLive } from "../app";

export function SignOutView() {
  const unsent = useLive(() => db.unsent(), []);
  const me = useLive(() => db.getValue<number>("user_id"), []);
  return (
    <section class="card" aria-labelledby="signout-title">
      <h2 id="signout-title">{t("sign_out_title")}</h2>
      {unsent && (unsent.visits > 0 || unsent.photos > 0 || unsent.acks > 0) ? (
        <p class="banner danger" role="alert" data-testid="signout-warning">
          {t("sign_out_warning", { visits: unsent.visits, photos: unsent.photos, acks: unsent.acks })}
        </p>
      ) : (
        <p>{t("sign_out_clean")}</p>
      )}
      <div class="row">
        <button class="danger" type="button" data-user={me} onClick={() => void signOut()}>
          {t("sign_out_confirm")}
        </button>
        <a class="button" href="#/rounds">
          {t("cancel")}
        </a>
      </div>
    </section>
  );
}
