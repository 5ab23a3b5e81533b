// "Scan the shop's QR": the camera (getUserMedia) looks for the QR on the shop-front sticker and the
// app opens that shop's card. The QR decoder (jsQR, pure JavaScript: no eval, no WebAssembly, so the
// CSP stays as it is) is loaded only when scanning starts, so it never weighs on the app's start.
// The code can also be typed, or its link pasted; a link opened as #/shops/<code> lands here too.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "@shared/api";
import { api, t } from "../app";
import { shopCodeFrom } from "../lib/shopcode";
import { Icon } from "./icons";

type Decoder = (typeof import("jsqr"))["default"];
type Camera = "off" | "starting" | "on" | "failed";

const FRAME_MS = 150;
const FRAME_MAX_SIDE = 720;

interface ShopByCode {
  code: string;
  establishment_id: number;
}

export function ScanView({ code }: { code?: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const session = useRef<{ stream: MediaStream | null; timer: ReturnType<typeof setTimeout> | undefined; alive: boolean }>({ stream: null, timer: undefined, alive: true });
  const [camera, setCamera] = useState<Camera>("off");
  // `detail` is what was read (a link, another QR's text): shown isolated left to right.
  const [message, setMessage] = useState<{ text: string; kind: "error" | "info"; detail?: string } | null>(null);
  const [typed, setTyped] = useState("");
  const [looking, setLooking] = useState(false);

  function stopCamera() {
    clearTimeout(session.current.timer);
    session.current.stream?.getTracks().forEach((track) => track.stop());
    session.current.stream = null;
    if (video.current) video.current.srcObject = null;
  }

  async function lookUp(shopCode: string) {
    setLooking(true);
    setMessage({ text: t("scan_looking", { code: shopCode }), kind: "info" });
    try {
      const shop = await api.get<ShopByCode>(`community/shops/${encodeURIComponent(shopCode)}`);
      location.hash = `#/shop/${shop.establishment_id}`;
    } catch (caught) {
      const text =
        caught instanceof ApiError && caught.network
          ? t("scan_offline")
          : caught instanceof ApiError && caught.status === 404
            ? t("scan_unknown", { code: shopCode })
            : caught instanceof ApiError && caught.status === 422
              ? t("scan_bad_code")
              : String((caught as Error).message);
      const detail = caught instanceof ApiError && caught.status === 422 ? shopCode : undefined;
      if (session.current.alive) setMessage({ text, kind: "error", detail });
    } finally {
      if (session.current.alive) setLooking(false);
    }
  }

  function found(text: string) {
    const shopCode = shopCodeFrom(text);
    if (!shopCode) {
      // Another QR (a menu, a payment code): say so and keep looking.
      setMessage({ text: t("scan_bad_code"), kind: "error", detail: text.slice(0, 60) });
      return false;
    }
    stopCamera();
    setCamera("off");
    void lookUp(shopCode);
    return true;
  }

  async function startCamera() {
    setMessage(null);
    if (!navigator.mediaDevices?.getUserMedia) {
      setCamera("failed");
      setMessage({ text: t("scan_no_camera", { message: t("scan_no_camera_api") }), kind: "error" });
      return;
    }
    setCamera("starting");
    let decode: Decoder;
    try {
      const [stream, module] = await Promise.all([
        navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false }),
        import("jsqr"),
      ]);
      if (!session.current.alive) {
        stream.getTracks().forEach((track) => track.stop());
        return;
      }
      session.current.stream = stream;
      decode = module.default;
      video.current!.srcObject = stream;
      await video.current!.play();
    } catch (caught) {
      stopCamera();
      setCamera("failed");
      setMessage({ text: t("scan_no_camera", { message: (caught as Error)?.message || String(caught) }), kind: "error" });
      return;
    }
    setCamera("on");
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true })!;
    let lastMiss = "";
    const frame = () => {
      const element = video.current;
      if (!session.current.stream || !element) return;
      if (element.readyState >= 2 && element.videoWidth > 0) {
        const scale = Math.min(1, FRAME_MAX_SIDE / Math.max(element.videoWidth, element.videoHeight));
        canvas.width = Math.round(element.videoWidth * scale);
        canvas.height = Math.round(element.videoHeight * scale);
        context.drawImage(element, 0, 0, canvas.width, canvas.height);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const result = decode(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
        if (result?.data && result.data !== lastMiss) {
          if (found(result.data)) return;
          lastMiss = result.data;
        }
      }
      session.current.timer = setTimeout(frame, FRAME_MS);
    };
    frame();
  }

  useEffect(() => {
    session.current.alive = true;
    if (code) {
      const shopCode = shopCodeFrom(code);
      if (shopCode) void lookUp(shopCode);
      else setMessage({ text: t("scan_bad_code"), kind: "error", detail: code.slice(0, 60) });
    } else {
      void startCamera();
    }
    return () => {
      session.current.alive = false;
      stopCamera();
    };
  }, [code]);

  function submit(event: Event) {
    event.preventDefault();
    const shopCode = shopCodeFrom(typed);
    if (!shopCode) {
      setMessage({ text: t("scan_bad_code"), kind: "error", detail: typed.trim().slice(0, 60) });
      return;
    }
    stopCamera();
    setCamera("off");
    void lookUp(shopCode);
  }

  return (
    <section class="scan" aria-labelledby="scan-title">
      <h2 id="scan-title">{t("scan_title")}</h2>
      <div class={`viewfinder ${camera}`} data-testid="viewfinder" data-camera={camera}>
        <video ref={video} muted playsInline aria-label={t("scan_title")} />
        {camera === "on" && <span class="frame" aria-hidden="true" />}
        {camera !== "on" && (
          <div class="viewfinder-off">
            {camera === "starting" ? (
              <p>{t("scan_starting")}</p>
            ) : (
              <button type="button" class="primary" onClick={() => void startCamera()} disabled={looking} data-testid="scan-start">
                <Icon name="camera" /> {t("scan_start")}
              </button>
            )}
          </div>
        )}
      </div>
      {camera === "on" && <p class="muted">{t("scan_hint")}</p>}
      {message && (
        <p class={message.kind === "error" ? "banner danger" : "banner info"} role={message.kind === "error" ? "alert" : "status"} data-testid="scan-message" data-kind={message.kind}>
          {message.text}
          {message.detail && (
            <>
              {" "}
              <bdi class="ltr" dir="ltr">
                {message.detail}
              </bdi>
            </>
          )}
        </p>
      )}
      <form class="card code-form" onSubmit={submit}>
        <label>
          {t("scan_manual")}
          <input name="shop_code" value={typed} autoComplete="off" autoCapitalize="characters" spellcheck={false} dir="ltr" onInput={(event) => setTyped(event.currentTarget.value)} />
        </label>
        <button type="submit" class="primary wide" disabled={looking} data-testid="code-open">
          {t("scan_open")}
        </button>
      </form>
    </section>
  );
}
