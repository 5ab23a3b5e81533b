// Photos are resized on the phone before they are stored: at most 2,000 px on the long edge, JPEG.
export const MAX_EDGE = 2000;

export interface ResizedPhoto {
  blob: Blob;
  width: number;
  height: number;
}

export function fitWithin(width: number, height: number, maxEdge = MAX_EDGE): { width: number; height: number } {
  const scale = Math.min(1, maxEdge / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

export async function resizePhoto(file: Blob, maxEdge = MAX_EDGE): Promise<ResizedPhoto> {
  // imageOrientation "from-image" applies the EXIF rotation, so the stored photo is upright.
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const size = fitWithin(bitmap.width, bitmap.height, maxEdge);
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("no canvas");
  context.drawImage(bitmap, 0, 0, size.width, size.height);
  bitmap.close();
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  if (!blob) throw new Error("could not encode the photo");
  return { blob, ...size };
}
