/* Stand-in for the xparameters.h the BSP generates from the block design, for an IP instance named
 * 'forecaster' (classic flow: device ID; system-device-tree flow: base address). */
#ifndef XPARAMETERS_H
#define XPARAMETERS_H
#define XPAR_FORECASTER_DEVICE_ID 0
#define XPAR_FORECASTER_BASEADDR 0x44A00000
#endif
